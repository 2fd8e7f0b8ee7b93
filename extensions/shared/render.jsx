/** @jsxImportSource preact */
// Draws advocate-view.js's nodes with Shopify's Polaris web components; every target uses it.
// Text goes in as Preact children, so it is only ever text.
import {useEffect, useState} from "preact/hooks";

import {loadBuyerData} from "./advocate-view.js";

const APP_URL = bakedAppUrl();

function bakedAppUrl() {
  // scripts/build_extensions.js defines process.env.ADVOCATE_APP_URL; Shopify CLI defines every
  // process.env.NAME from its own environment when it bundles, so `shopify app deploy` needs
  // ADVOCATE_APP_URL set. Left undefined, `process` does not exist in Shopify's sandbox: no block.
  try {
    return process.env.ADVOCATE_APP_URL || "";
  } catch {
    return "";
  }
}

/** Asks Advocate once on mount (and again if the order changes), then draws what the view decides
 * with Shopify's `shopify.i18n` (the extension's locales/ file in the buyer's language); a block draws
 * nothing until then, or at all when there is nothing (`emptyText` is for a full page). */
export function AdvocateBlock({surface, orderId, view, emptyText}) {
  const [nodes, setNodes] = useState(null);
  useEffect(() => {
    if (!APP_URL) {
      setNodes([]);
      return undefined;
    }
    let current = true;
    const locale = shopify.localization?.extensionLanguage?.value?.isoCode;
    loadBuyerData({appUrl: APP_URL, surface, orderId, locale, sessionToken: shopify.sessionToken,
      fetch: (url, init) => fetch(url, init)})
      .then((data) => current && setNodes(data ? view(data, shopify.i18n) : []));
    return () => {
      current = false;
    };
  }, [surface, orderId, view]);
  if (nodes === null) return null;
  if (nodes.length) return <Nodes nodes={nodes} />;
  return emptyText ? <s-paragraph color="subdued">{emptyText}</s-paragraph> : null;
}

export function Nodes({nodes}) {
  return (
    <s-stack gap="base">
      {nodes.map((node, index) => <Node key={index} node={node} id={`advocate-${index}`} />)}
    </s-stack>
  );
}

function Node({node, id}) {
  switch (node.type) {
    case "heading":
      return <s-heading>{node.text}</s-heading>;
    case "text":
      return (
        <s-paragraph color={node.tone === "subdued" ? "subdued" : undefined} tone={node.tone === "success" ? "success" : undefined}>
          {node.text}
        </s-paragraph>
      );
    case "copy":
      return <CopyField node={node} id={id} />;
    case "share":
      return (
        <s-stack direction="inline" gap="small-200" accessibilityLabel={node.label}>
          {node.targets.map((target) => (
            <s-button key={target.url} href={target.url} variant="secondary" target={opensApp(target.url) ? undefined : "_blank"}>
              {target.label}
            </s-button>
          ))}
        </s-stack>
      );
    case "link":
      return <s-link href={node.url}>{node.text}</s-link>;
    case "stars":
      return <StarsRow node={node} />;
    case "figures":
      return (
        <s-grid gridTemplateColumns={node.items.map(() => "1fr").join(" ")} gap="base">
          {node.items.map((item) => (
            <s-stack key={item.label} gap="none">
              <s-text color="subdued">{item.label}</s-text>
              <s-text type="strong">{item.value}</s-text>
            </s-stack>
          ))}
        </s-grid>
      );
    case "list":
      return (
        <s-stack gap="small-200">
          <s-heading>{node.heading}</s-heading>
          <s-unordered-list>
            {node.items.map((item, index) => (
              <s-list-item key={index}>
                {item.text}
                {item.detail ? <s-text color="subdued"> · {item.detail}</s-text> : null}
              </s-list-item>
            ))}
          </s-unordered-list>
        </s-stack>
      );
    default:
      return null; // a node type this renderer does not know: leave it out rather than guess
  }
}

function CopyField({node, id}) {
  const [copied, setCopied] = useState(false);
  return (
    <s-stack gap="small-200">
      <s-grid gridTemplateColumns="1fr auto" gap="base" alignItems="end">
        <s-text-field label={node.label} value={node.value} readOnly />
        <s-button commandFor={`${id}-clip`} command="--copy" variant="primary">{node.button}</s-button>
      </s-grid>
      <s-clipboard-item id={`${id}-clip`} text={node.value} onCopy={() => setCopied(true)} />
      <s-stack accessibilityRole="status">{copied ? <s-text tone="success">{node.done}</s-text> : null}</s-stack>
    </s-stack>
  );
}

function StarsRow({node}) {
  return (
    <s-grid gridTemplateColumns={node.image ? "auto 1fr" : "1fr"} gap="base" alignItems="center">
      {node.image ? <s-product-thumbnail src={node.image} alt="" size="small" /> : null}
      <s-stack gap="small-300">
        <s-text>{node.title}</s-text>
        <s-stack direction="inline" gap="small-200">
          {node.links.map((star) => (
            <s-link key={star.rating} href={star.url} accessibilityLabel={star.label}>★</s-link>
          ))}
        </s-stack>
      </s-stack>
    </s-grid>
  );
}

function opensApp(url) {
  // Mail and text-message links hand over to the phone's own app; a new tab would stay blank.
  return /^(?:mailto|sms):/i.test(url);
}
