// devstore's stand-in for Shopify's UI-extension host. Shopify runs the extension's bundle and
// draws its Polaris components; here the extension's own view module decides what to show (the
// same code the bundle runs) and this file draws its view nodes as plain, accessible HTML.
// Text is only ever set as text, and only web, mail and text-message links are followed.
// The views' words come from the extension's locale file that Shopify would pick (the block
// carries them all, see devstore/checkout_blocks.py), through the view module's localeI18n.
const SAFE_URL = /^(https?:|mailto:|sms:)/i;
const VIEWS = {"thank-you": "thankYouView", "order-status": "orderStatusView", account: "referPageView", profile: "profileView"};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function link(text, url, attrs = {}) {
  if (!SAFE_URL.test(url || "")) return el("span", {}, text);
  return el("a", {href: url, ...attrs}, text);
}

function copyField(node, index) {
  const id = `advocate-copy-${index}`;
  const input = el("input", {id, type: "text", readonly: "", value: node.value});
  const status = el("span", {role: "status", class: "ext-copied"});
  const button = el("button", {type: "button"}, node.button);
  button.addEventListener("click", async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(node.value);
    } catch (error) {
      document.execCommand("copy");
    }
    status.textContent = node.done;
  });
  return el("div", {class: "ext-copy"}, el("label", {for: id}, node.label), el("div", {class: "ext-row"}, input, button, status));
}

const DRAW = {
  heading: (node) => el("h2", {}, node.text),
  text: (node) => el("p", {class: `ext-text ${node.tone || ""}`.trim()}, node.text),
  copy: copyField,
  share: (node) => el("ul", {class: "ext-share", "aria-label": node.label},
    ...node.targets.map((t) => el("li", {}, link(t.label, t.url, {target: "_blank", rel: "noopener"})))),
  link: (node) => el("p", {}, link(node.text, node.url)),
  stars: (node) => el("div", {class: "ext-stars-row"},
    ...(node.image && SAFE_URL.test(node.image) ? [el("img", {src: node.image, alt: "", width: "48", height: "48"})] : []),
    el("span", {class: "ext-product"}, node.title),
    el("span", {class: "ext-stars"}, ...node.links.map((s) => link("★", s.url, {"aria-label": s.label, class: "ext-star"})))),
  figures: (node) => el("dl", {class: "ext-figures"},
    ...node.items.flatMap((f) => [el("dt", {}, f.label), el("dd", {}, f.value)])),
  list: (node) => el("div", {class: "ext-list"}, el("h3", {}, node.heading),
    el("ul", {}, ...node.items.map((i) => el("li", {}, i.text, ...(i.detail ? [" ", el("span", {class: "muted"}, i.detail)] : []))))),
};

// Shopify's choice of locale file: the buyer's locale (ko-KR), then its language (ko), then the
// shop's locale and its language, then the extension's default. Where the page does not name the
// buyer's locale (the Refer friends page), its address's ?locale= or its own language does.
function extensionLocale(spot) {
  const {default: fallback, files} = JSON.parse(spot.querySelector("script[data-advocate-locales]").textContent);
  const buyer = spot.dataset.locale || new URLSearchParams(location.search).get("locale") || document.documentElement.lang;
  for (const tag of [buyer, spot.dataset.shopLocale]) {
    for (const code of tag ? [tag, tag.split("-")[0]] : []) {
      if (files[code]) return {code, messages: files[code]};
    }
  }
  return {code: fallback, messages: files[fallback]};
}

async function mount(spot, index) {
  const {surface, order, app, tokenUrl, module} = spot.dataset;
  const view = await import(module);
  const {code, messages} = extensionLocale(spot);
  const i18n = view.localeI18n(messages, code);
  const sessionToken = {get: async () => (await (await fetch(tokenUrl, {method: "POST", credentials: "same-origin"})).json()).token};
  const data = await view.loadBuyerData({
    appUrl: app, surface, orderId: order || undefined, locale: code, sessionToken,
    fetch: window.fetch.bind(window), wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  });
  // Shopify's profile block links the full page as extension://advocate-account; here it is devstore's page.
  const options = spot.dataset.pageUrl ? {pageUrl: new URL(spot.dataset.pageUrl, location.href).href} : undefined;
  const nodes = data ? view[VIEWS[surface]](data, i18n, options) : [];
  spot.lang = code;
  // The full page's heading and its empty line are the extension's own (ReferPage.jsx), so in its language.
  const title = surface === "account" ? document.querySelector("[data-advocate-page-title]") : null;
  if (title) title.textContent = i18n.translate("page.title");
  if (title && !nodes.length) nodes.push({type: "text", text: i18n.translate("page.empty"), tone: "subdued"});
  spot.replaceChildren(...nodes.map((node, i) => (DRAW[node.type] || (() => ""))(node, `${index}-${i}`)));
  spot.hidden = nodes.length === 0;
  spot.dataset.state = "rendered";
}

document.querySelectorAll("[data-advocate-block]").forEach((spot, index) => {
  mount(spot, index).catch((error) => {
    spot.hidden = true;
    spot.dataset.state = "failed";
    console.warn("Advocate extension:", error);
  });
});
