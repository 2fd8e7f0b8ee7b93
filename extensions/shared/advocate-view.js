// What Advocate's checkout and customer-account extensions show, decided in one place.
//
// Every target asks Advocate's endpoint (GET /ext/v1/buyer) for the buyer's data and turns the
// answer into a short list of view nodes; a renderer draws them. Shopify's bundle draws them with
// Polaris web components (render.jsx); devstore serves this file unchanged to the browser and draws
// the same nodes as HTML. So this module imports nothing, and its views are pure functions of the
// answer (which may be missing any part, or malformed: they never throw) and of `i18n`.
//
// Every word a view writes comes from `i18n.translate(key, replacements)`, the extension's
// locales/<language>.json in the buyer's language: Shopify's `shopify.i18n` in the bundle,
// `localeI18n()` (below) on devstore's pages and in the tests. Numbers go through
// `i18n.formatNumber`. Money and the friends' statuses arrive written by Advocate and are shown as sent.
//
// Node types: heading {text}, text {text, tone?: "subdued"|"success"}, copy {label, value, button, done},
// share {label, targets: [{label, url}]}, link {text, url}, stars {title, image, links: [{rating, url, label}]},
// figures {items: [{label, value}]}, list {heading, items: [{text, detail?}]}.
// An empty list means: render nothing.

const SAFE_URL = /^(?:https?:|mailto:|sms:)/i;
const IMAGE_URL = /^https?:/i;
const DEFAULT_TRIES = 3;
// Advocate asks for a few seconds while it makes a link; a larger value would keep a thank-you
// page waiting on a block the buyer has stopped looking at.
const LONGEST_WAIT_MS = 30_000;

/** The endpoint's answer for this surface, or null when there is nothing to show (any failure). */
export async function loadBuyerData({appUrl, surface, orderId, locale, sessionToken, fetch = globalThis.fetch,
  wait = sleep, maxTries = DEFAULT_TRIES} = {}) {
  const url = buyerUrl(appUrl, surface, orderId, locale);
  for (let attempt = 1; ; attempt += 1) {
    const data = await askOnce(url, sessionToken, fetch);
    const preparing = data?.referral?.state === "preparing";
    const retryAfter = preparing ? Number(data.referral.retry_after) : 0;
    if (!(retryAfter > 0) || attempt >= maxTries) return data;
    await wait(Math.min(retryAfter * 1000, LONGEST_WAIT_MS));
  }
}

function buyerUrl(appUrl, surface, orderId, locale) {
  const base = String(appUrl || "").replace(/\/+$/, "");
  const order = orderId ? `&order=${encodeURIComponent(orderId)}` : "";
  // The language the extension speaks (Shopify's extensionLanguage), so that what Advocate writes
  // into the answer (the offer, the reward, the friends' statuses) can match the block around it.
  const language = locale ? `&locale=${encodeURIComponent(locale)}` : "";
  return `${base}/ext/v1/buyer?surface=${encodeURIComponent(surface)}${order}${language}`;
}

async function askOnce(url, sessionToken, fetch) {
  // The shopper never sees an error from Advocate: a refusal, a rate limit, an outage or a bad
  // answer all mean the block stays empty.
  try {
    // Shopify's session token lives five minutes, so each request asks for one.
    const token = await sessionToken.get();
    const response = await fetch(url, {headers: {Authorization: `Bearer ${token}`, Accept: "application/json"}});
    if (!response.ok) return null;
    const data = await response.json();
    return data && typeof data === "object" && !Array.isArray(data) ? data : null;
  } catch {
    return null;
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Thank-you page: the buyer's referral link (or that it comes by email). */
export function thankYouView(data, i18n) {
  return referralNodes(data?.referral, i18n);
}

/** Order status page: after delivery, the review row first (it is what this visit is for), then the link. */
export function orderStatusView(data, i18n) {
  return [...reviewNodes(data?.review, i18n), ...referralNodes(data?.referral, i18n)];
}

/** The customer account's "Refer friends" page: link, friends, credit, products waiting for a review. */
export function referPageView(data, i18n) {
  const t = wordsOf(i18n);
  const referral = data?.referral;
  const account = data?.account || {};
  const nodes = referralNodes(referral, i18n);
  if (referral && account.credit_earned !== undefined) {
    nodes.push(creditFigures(account, i18n, {withFriends: true}));
    const friends = list(account.friends)
      .map((f) => ({text: text(f?.first_name) || t("account.friend_fallback"), detail: text(f?.status)}));
    nodes.push(friends.length
      ? {type: "list", heading: t("account.friends_heading"), items: friends}
      : {type: "text", text: t("account.no_friends"), tone: "subdued"});
  }
  const awaiting = list(account.awaiting_review)
    .map((item) => ({type: "link", url: safeUrl(item?.url), text: text(item?.title)
      ? t("account.review_item", {title: text(item.title)}) : t("account.review_item_untitled")}))
    .filter((node) => node.url);
  if (awaiting.length) nodes.push({type: "heading", text: t("account.awaiting", {count: awaiting.length})}, ...awaiting);
  return nodes;
}

/** The profile page's compact block: the link, the credit, and the way to the full page. */
export function profileView(data, i18n, {pageUrl} = {}) {
  const referral = data?.referral;
  const nodes = referralNodes(referral, i18n, {compact: true});
  if (!nodes.length) return nodes;
  const account = data?.account || {};
  if (account.credit_earned !== undefined) nodes.push(creditFigures(account, i18n, {withFriends: false}));
  // pageUrl comes from our own code (Shopify's extension:// address of the full page), not from the endpoint.
  if (pageUrl) nodes.push({type: "link", text: wordsOf(i18n)("profile.see_all"), url: pageUrl});
  return nodes;
}

function referralNodes(referral, i18n, {compact = false} = {}) {
  if (!referral || typeof referral !== "object") return [];
  const t = wordsOf(i18n);
  const offer = text(referral.friend_offer);
  const reward = text(referral.reward);
  const nodes = [{type: "heading", text: offer ? t("referral.heading_offer", {offer}) : t("referral.heading")}];
  if (reward) nodes.push({type: "text", text: t("referral.reward", {reward})});
  const link = safeUrl(referral.link);
  if (referral.state === "ready" && link) {
    nodes.push({type: "copy", label: t("referral.link_label"), value: link, button: t("referral.copy"), done: t("referral.copied")});
    if (!compact) {
      const targets = list(referral.share_targets)
        .map((target) => ({label: text(target?.label), url: safeUrl(target?.url)}))
        .filter((target) => target.label && target.url);
      const page = safeUrl(referral.share_url);
      if (page) targets.push({label: t("referral.more_ways"), url: page});
      if (targets.length) nodes.push({type: "share", label: t("referral.share_label"), targets});
    }
    return nodes;
  }
  if (referral.state === "preparing") {
    nodes.push({type: "text", text: t("referral.preparing"), tone: "subdued"});
    return nodes;
  }
  if (referral.state === "by_email") {
    nodes.push({type: "text", text: t("referral.by_email"), tone: "subdued"});
    return nodes;
  }
  return [];  // a state this version does not know, or a link that is not a web address
}

function reviewNodes(review, i18n) {
  if (!review || typeof review !== "object") return [];
  const t = wordsOf(i18n);
  if (review.state === "done") return [{type: "text", text: t("review.thanks"), tone: "success"}];
  if (review.state !== "ready") return [];
  const rows = list(review.items).map((item) => starsRow(item, t)).filter(Boolean);
  if (!rows.length) return [];
  const nodes = [
    {type: "heading", text: t("review.heading")},
    {type: "text", text: t("review.prompt")},
    ...rows,
  ];
  const form = safeUrl(review.form_url);
  if (form) nodes.push({type: "link", text: t("review.open_form"), url: form});
  return nodes;
}

function starsRow(item, t) {
  const links = list(item?.stars)
    .filter((star) => Number.isInteger(star?.rating) && star.rating >= 1 && star.rating <= 5)
    .map((star) => ({rating: star.rating, url: safeUrl(star.url), label: t("review.star", {rating: star.rating})}))
    .filter((star) => star.url);
  if (!links.length) return null;
  const image = safeUrl(item.image, IMAGE_URL) || null;
  return {type: "stars", title: text(item.title) || t("review.untitled"), image, links};
}

function creditFigures(account, i18n, {withFriends}) {
  const t = wordsOf(i18n);
  const items = [{label: t("credit.earned"), value: text(account.credit_earned)}];
  if (account.credit_pending !== undefined) items.push({label: t("credit.pending"), value: text(account.credit_pending)});
  if (withFriends && account.friend_count !== undefined) {
    items.push({label: t("account.friends_ordered"), value: i18n.formatNumber(Number(account.friend_count) || 0)});
  }
  return {type: "figures", items};
}

// Called as a method: the functions of Shopify's `shopify.i18n` may need it as `this`.
function wordsOf(i18n) {
  return (key, replacements) => i18n.translate(key, replacements);
}

/** The address when it is a web, mail or text-message one; "" for anything else (javascript:, data:, ...). */
function safeUrl(value, allowed = SAFE_URL) {
  const url = typeof value === "string" ? value.trim() : "";
  return allowed.test(url) ? url : "";
}

function list(value) {
  return Array.isArray(value) ? value : [];
}

function text(value) {
  return value === null || value === undefined ? "" : String(value);
}

/** Shopify's `shopify.i18n` for one locale file, where Shopify is not the host (devstore's pages, the
 * tests): `translate` takes a dotted key, fills `{{name}}` from its replacements and, given `count`,
 * picks the language's plural form (Intl.PluralRules: "one", "few", "many", "other", ...), as Shopify
 * documents for UI extensions; `formatNumber` is Intl.NumberFormat's. A key the file lacks throws:
 * the locale tests keep every file complete. */
export function localeI18n(messages, locale) {
  const plural = new Intl.PluralRules(locale);
  const numbers = new Intl.NumberFormat(locale);
  const translate = (key, replacements = {}) => {
    let entry = key.split(".").reduce((node, part) => (node && typeof node === "object" ? node[part] : undefined), messages);
    if (entry && typeof entry === "object" && typeof replacements.count === "number") {
      entry = entry[plural.select(replacements.count)] ?? entry.other;
    }
    if (typeof entry !== "string") throw new Error(`No "${key}" in the ${locale} locale file.`);
    return entry.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name) => (name in replacements ? String(replacements[name]) : whole));
  };
  return {translate, formatNumber: (number) => numbers.format(number)};
}
