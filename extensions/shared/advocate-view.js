// What Advocate's checkout and customer-account extensions show, decided in one place.
//
// Every target asks Advocate's endpoint (GET /ext/v1/buyer) for the buyer's data and turns the
// answer into a short list of view nodes; a renderer draws them. Shopify's bundle draws them with
// Polaris web components (render.jsx); devstore serves this file unchanged to the browser and draws
// the same nodes as HTML. So this module imports nothing, and its views are pure functions of the
// answer (which may be missing any part, or malformed: they never throw).
//
// Node types: heading {text}, text {text, tone?: "subdued"|"success"}, copy {label, value},
// share {targets: [{label, url}]}, link {text, url}, stars {title, image, links: [{rating, url, label}]},
// figures {items: [{label, value}]}, list {heading, items: [{text, detail?}]}.
// An empty list means: render nothing.

const SAFE_URL = /^(?:https?:|mailto:|sms:)/i;
const IMAGE_URL = /^https?:/i;
const DEFAULT_TRIES = 3;
// Advocate asks for a few seconds while it makes a link; a larger value would keep a thank-you
// page waiting on a block the buyer has stopped looking at.
const LONGEST_WAIT_MS = 30_000;

/** The endpoint's answer for this surface, or null when there is nothing to show (any failure). */
export async function loadBuyerData({appUrl, surface, orderId, sessionToken, fetch = globalThis.fetch,
  wait = sleep, maxTries = DEFAULT_TRIES} = {}) {
  const url = buyerUrl(appUrl, surface, orderId);
  for (let attempt = 1; ; attempt += 1) {
    const data = await askOnce(url, sessionToken, fetch);
    const preparing = data?.referral?.state === "preparing";
    const retryAfter = preparing ? Number(data.referral.retry_after) : 0;
    if (!(retryAfter > 0) || attempt >= maxTries) return data;
    await wait(Math.min(retryAfter * 1000, LONGEST_WAIT_MS));
  }
}

function buyerUrl(appUrl, surface, orderId) {
  const base = String(appUrl || "").replace(/\/+$/, "");
  const order = orderId ? `&order=${encodeURIComponent(orderId)}` : "";
  return `${base}/ext/v1/buyer?surface=${encodeURIComponent(surface)}${order}`;
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
export function thankYouView(data) {
  return referralNodes(data?.referral);
}

/** Order status page: after delivery, the review row first (it is what this visit is for), then the link. */
export function orderStatusView(data) {
  return [...reviewNodes(data?.review), ...referralNodes(data?.referral)];
}

/** The customer account's "Refer friends" page: link, friends, credit, products waiting for a review. */
export function referPageView(data) {
  const referral = data?.referral;
  const account = data?.account || {};
  const nodes = referralNodes(referral);
  if (referral && account.credit_earned !== undefined) {
    nodes.push(creditFigures(account, {withFriends: true}));
    const friends = list(account.friends).map((f) => ({text: text(f?.first_name) || "A friend", detail: text(f?.status)}));
    nodes.push(friends.length
      ? {type: "list", heading: "Your friends", items: friends}
      : {type: "text", text: "No friend has ordered with your link yet. When one does, you'll see them here.", tone: "subdued"});
  }
  const awaiting = list(account.awaiting_review)
    .map((item) => ({type: "link", text: `Review ${text(item?.title) || "your item"}`, url: safeUrl(item?.url)}))
    .filter((node) => node.url);
  if (awaiting.length) nodes.push({type: "heading", text: "Waiting for your review"}, ...awaiting);
  return nodes;
}

/** The profile page's compact block: the link, the credit, and the way to the full page. */
export function profileView(data, {pageUrl} = {}) {
  const referral = data?.referral;
  const nodes = referralNodes(referral, {compact: true});
  if (!nodes.length) return nodes;
  const account = data?.account || {};
  if (account.credit_earned !== undefined) nodes.push(creditFigures(account, {withFriends: false}));
  // pageUrl comes from our own code (Shopify's extension:// address of the full page), not from the endpoint.
  if (pageUrl) nodes.push({type: "link", text: "See your friends and credit", url: pageUrl});
  return nodes;
}

function referralNodes(referral, {compact = false} = {}) {
  if (!referral || typeof referral !== "object") return [];
  const offer = text(referral.friend_offer);
  const reward = text(referral.reward);
  const nodes = [{type: "heading", text: offer ? `Give a friend ${offer}` : "Refer a friend"}];
  if (reward) nodes.push({type: "text", text: `When they order with your link, you get ${reward}.`});
  const link = safeUrl(referral.link);
  if (referral.state === "ready" && link) {
    nodes.push({type: "copy", label: "Your referral link", value: link});
    if (!compact) {
      const targets = list(referral.share_targets)
        .map((t) => ({label: text(t?.label), url: safeUrl(t?.url)}))
        .filter((t) => t.label && t.url);
      const page = safeUrl(referral.share_url);
      if (page) targets.push({label: "More ways to share", url: page});
      if (targets.length) nodes.push({type: "share", targets});
    }
    return nodes;
  }
  if (referral.state === "preparing") {
    nodes.push({type: "text", text: "Your link is almost ready. Refresh this page in a moment to see it.", tone: "subdued"});
    return nodes;
  }
  if (referral.state === "by_email") {
    nodes.push({type: "text", text: "We'll email you your link once your order is on its way.", tone: "subdued"});
    return nodes;
  }
  return [];  // a state this version does not know, or a link that is not a web address
}

function reviewNodes(review) {
  if (!review || typeof review !== "object") return [];
  if (review.state === "done") return [{type: "text", text: "Thank you for your review!", tone: "success"}];
  if (review.state !== "ready") return [];
  const rows = list(review.items).map(starsRow).filter(Boolean);
  if (!rows.length) return [];
  const nodes = [
    {type: "heading", text: "Review your items"},
    {type: "text", text: "Pick a star rating to tell other shoppers what you think."},
    ...rows,
  ];
  const form = safeUrl(review.form_url);
  if (form) nodes.push({type: "link", text: "Open the review form", url: form});
  return nodes;
}

function starsRow(item) {
  const links = list(item?.stars)
    .filter((star) => Number.isInteger(star?.rating) && star.rating >= 1 && star.rating <= 5)
    .map((star) => ({rating: star.rating, url: safeUrl(star.url), label: `${star.rating} of 5 stars`}))
    .filter((star) => star.url);
  if (!links.length) return null;
  const image = safeUrl(item.image, IMAGE_URL) || null;
  return {type: "stars", title: text(item.title) || "Your item", image, links};
}

function creditFigures(account, {withFriends}) {
  const items = [{label: "Credit earned", value: text(account.credit_earned)}];
  if (account.credit_pending !== undefined) items.push({label: "Credit on the way", value: text(account.credit_pending)});
  if (withFriends && account.friend_count !== undefined) {
    items.push({label: "Friends who ordered", value: String(Number(account.friend_count) || 0)});
  }
  return {type: "figures", items};
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
