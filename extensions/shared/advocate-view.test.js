// What each extension surface shows for each answer of /ext/v1/buyer, and how the answer is fetched.
// Run: npm run test:extensions
import assert from "node:assert/strict";
import fs from "node:fs";
import {describe, test} from "node:test";

import * as views from "./advocate-view.js";
import {loadBuyerData, localeI18n} from "./advocate-view.js";

// Each view with its extension's English locale file, as Shopify's i18n would give it to an English buyer.
const english = (extension) => localeI18n(JSON.parse(fs.readFileSync(
  new URL(`../${extension}/locales/en.default.json`, import.meta.url), "utf8")), "en");
const CHECKOUT = english("advocate-checkout");
const ACCOUNT = english("advocate-account");
const thankYouView = (data) => views.thankYouView(data, CHECKOUT);
const orderStatusView = (data) => views.orderStatusView(data, CHECKOUT);
const profileView = (data, options) => views.profileView(data, CHECKOUT, options);
const referPageView = (data) => views.referPageView(data, ACCOUNT);

const APP = "https://app.example";
const LINK = "https://maple.myshopify.com/apps/advocate/referrals/r/MAYA-7K2Q";

function referral(overrides = {}) {
  return {
    state: "ready",
    link: LINK,
    share_url: `${APP}/referrals/s/tok`,
    friend_offer: "10% off their first order",
    reward: "10.00 USD in store credit",
    share_message: "Here's 10% off at Maple & Moss:",
    share_targets: [
      {label: "WhatsApp", url: "https://wa.me/?text=Here%27s%2010%25%20off"},
      {label: "Text message", url: "sms:?&body=Here"},
      {label: "Email", url: "mailto:?subject=A%20gift"},
    ],
    ...overrides,
  };
}

function stars(product) {
  return [1, 2, 3, 4, 5].map((rating) => ({rating, url: `${APP}/reviews/r/tok?item=${product}&rating=${rating}`}));
}

function review(overrides = {}) {
  return {
    state: "ready",
    form_url: `${APP}/reviews/r/tok`,
    items: [
      {title: "Linen shirt", image: "https://cdn.example/shirt.jpg", stars: stars(12)},
      {title: "Trail mug", image: null, stars: stars(13)},
    ],
    ...overrides,
  };
}

function answer(parts = {}) {
  return {shop_name: "Maple & Moss", referral: null, review: null, account: null, ...parts};
}

const byType = (nodes, type) => nodes.filter((n) => n.type === type);
const words = (nodes) => JSON.stringify(nodes);

describe("thank-you page", () => {
  test("a logged-in buyer gets their own link to copy and share, the friend's offer and what they earn", () => {
    const nodes = thankYouView(answer({referral: referral()}));
    assert.equal(nodes[0].type, "heading");
    assert.match(nodes[0].text, /10% off their first order/);
    assert.ok(nodes.some((n) => n.type === "text" && n.text.includes("10.00 USD in store credit")));
    assert.deepEqual(byType(nodes, "copy"), [{type: "copy", label: "Your referral link", value: LINK, button: "Copy", done: "Copied"}]);
    const [share] = byType(nodes, "share");
    assert.equal(share.label, "Share your link");
    assert.deepEqual(share.targets.map((t) => t.label), ["WhatsApp", "Text message", "Email", "More ways to share"]);
    assert.equal(share.targets.at(-1).url, `${APP}/referrals/s/tok`);
  });

  test("while the link is being made the buyer is told it is almost ready, without a link", () => {
    const nodes = thankYouView(answer({referral: referral({state: "preparing", link: undefined, retry_after: 4})}));
    assert.equal(byType(nodes, "copy").length, 0);
    assert.match(words(nodes), /almost ready/);
  });

  test("a guest is told their link comes by email and sees no link", () => {
    const nodes = thankYouView(answer({referral: {state: "by_email", friend_offer: "10% off their first order",
      reward: "10.00 USD in store credit"}}));
    assert.match(words(nodes), /email you your link/);
    assert.equal(byType(nodes, "copy").length + byType(nodes, "share").length, 0);
    assert.doesNotMatch(words(nodes), /referrals\/r\//);
  });

  test("nothing at all while a case pauses asks to the customer or the program is off", () => {
    assert.deepEqual(thankYouView(answer()), []);
    assert.deepEqual(thankYouView(null), []);
  });

  test("a link that is not a web address is never shown, nor are such share targets", () => {
    assert.deepEqual(thankYouView(answer({referral: referral({link: "javascript:alert(1)"})})), []);
    const nodes = thankYouView(answer({referral: referral({
      share_url: "javascript:alert(1)",
      share_targets: [{label: "Evil", url: " JavaScript:alert(1)"}, {label: "Data", url: "data:text/html,hi"},
        {label: "Email", url: "mailto:?body=hi"}],
    })}));
    assert.deepEqual(byType(nodes, "share")[0].targets, [{label: "Email", url: "mailto:?body=hi"}]);
    assert.doesNotMatch(words(nodes), /javascript|data:/i);
  });

  test("text from the endpoint stays text, markup included", () => {
    const nodes = thankYouView(answer({referral: referral({friend_offer: "<b>10%</b> off"})}));
    assert.equal(nodes[0].text, "Give a friend <b>10%</b> off");
  });
});

describe("order status page", () => {
  test("after delivery each product has five star links into the review form, labelled for screen readers", () => {
    const nodes = orderStatusView(answer({review: review()}));
    assert.deepEqual(nodes[0], {type: "heading", text: "Review your items"});
    const rows = byType(nodes, "stars");
    assert.deepEqual(rows.map((r) => [r.title, r.image]), [["Linen shirt", "https://cdn.example/shirt.jpg"], ["Trail mug", null]]);
    assert.deepEqual(rows[0].links.map((l) => l.label), ["1 of 5 stars", "2 of 5 stars", "3 of 5 stars", "4 of 5 stars", "5 of 5 stars"]);
    assert.equal(rows[1].links[2].url, `${APP}/reviews/r/tok?item=13&rating=3`);
    assert.deepEqual(byType(nodes, "link"), [{type: "link", text: "Open the review form", url: `${APP}/reviews/r/tok`}]);
  });

  test("the review ask mentions no reward and leans on no rating", () => {
    const ask = orderStatusView(answer({review: review()})).filter((n) => n.type !== "stars");
    assert.doesNotMatch(words(ask), /credit|reward|discount|% off|free|love|happy|5 stars|five stars/i);
    assert.ok(orderStatusView(answer({review: review()})).filter((n) => n.type === "stars").every((r) => r.links.length === 5));
  });

  test("the referral part shows too, after the review row", () => {
    const nodes = orderStatusView(answer({review: review(), referral: referral()}));
    const types = nodes.map((n) => n.type);
    assert.ok(types.lastIndexOf("stars") < types.indexOf("copy"));
    assert.deepEqual(orderStatusView(answer({referral: referral()})), thankYouView(answer({referral: referral()})));
  });

  test("once everything is reviewed, a thank-you line instead of the stars", () => {
    const nodes = orderStatusView(answer({review: {state: "done"}}));
    assert.deepEqual(nodes, [{type: "text", text: "Thank you for your review!", tone: "success"}]);
  });

  test("before delivery, or for someone else's order, nothing about reviews", () => {
    assert.deepEqual(orderStatusView(answer()), []);
    assert.doesNotMatch(words(orderStatusView(answer({referral: referral()}))), /Review your items/);
  });

  test("star links and images that are not web addresses are dropped; a product left with none is left out", () => {
    const nodes = orderStatusView(answer({review: review({form_url: "javascript:void(0)", items: [
      {title: "Linen shirt", image: "javascript:alert(1)", stars: [...stars(12).slice(0, 4), {rating: 5, url: "javascript:x"}]},
      {title: "Hat", image: "data:image/png;base64,AAAA", stars: [{rating: 3, url: "javascript:x"}]},
    ]})}));
    const rows = byType(nodes, "stars");
    assert.equal(rows.length, 1);
    assert.equal(rows[0].image, null);
    assert.deepEqual(rows[0].links.map((l) => l.rating), [1, 2, 3, 4]);
    assert.equal(byType(nodes, "link").length, 0);
  });
});

describe("customer account's Refer friends page", () => {
  const account = {
    friends: [{first_name: "Sam", status: "Credit earned"}, {first_name: "Ana", status: "Ordered: credit on the way"}],
    friend_count: 2,
    credit_earned: "10.00 USD",
    credit_pending: "10.00 USD",
    awaiting_review: [{title: "Linen shirt", url: `${APP}/reviews/r/tok?item=4`}],
  };

  test("the link, the friends by first name with their status, credit earned and on the way, and reviews waiting", () => {
    const nodes = referPageView(answer({referral: referral(), account}));
    assert.equal(byType(nodes, "copy")[0].value, LINK);
    assert.deepEqual(byType(nodes, "figures")[0].items, [
      {label: "Credit earned", value: "10.00 USD"}, {label: "Credit on the way", value: "10.00 USD"},
      {label: "Friends who ordered", value: "2"}]);
    assert.deepEqual(byType(nodes, "list")[0], {type: "list", heading: "Your friends", items: [
      {text: "Sam", detail: "Credit earned"}, {text: "Ana", detail: "Ordered: credit on the way"}]});
    assert.deepEqual(byType(nodes, "link"), [{type: "link", text: "Review Linen shirt", url: `${APP}/reviews/r/tok?item=4`}]);
  });

  test("without friends yet, a line that says where they will appear", () => {
    const nodes = referPageView(answer({referral: referral(), account: {...account, friends: [], friend_count: 0,
      credit_earned: "0.00 USD", credit_pending: "0.00 USD", awaiting_review: []}}));
    assert.equal(byType(nodes, "list").length, 0);
    assert.match(words(nodes), /No friend has ordered with your link yet/);
    assert.equal(byType(nodes, "figures")[0].items[0].value, "0.00 USD");
  });

  test("while referrals are paused only the products waiting for a review show, and nothing when there are none", () => {
    const nodes = referPageView(answer({account: {awaiting_review: account.awaiting_review}}));
    assert.deepEqual(nodes.map((n) => n.type), ["heading", "link"]);
    assert.equal(nodes[0].text, "1 item waiting for your review");
    assert.doesNotMatch(words(nodes), /friend|credit/i);
    assert.deepEqual(referPageView(answer({account: {awaiting_review: []}})), []);
    assert.deepEqual(referPageView(answer()), []);
  });

  test("a waiting review whose link is not a web address is left out, and the count is of those shown", () => {
    const nodes = referPageView(answer({account: {awaiting_review: [{title: "Hat", url: "javascript:alert(1)"}]}}));
    assert.deepEqual(nodes, []);
    const two = referPageView(answer({account: {awaiting_review: [{title: "Hat", url: "javascript:alert(1)"},
      {title: "", url: `${APP}/reviews/r/tok?item=5`}, {title: "Scarf", url: `${APP}/reviews/r/tok?item=6`}]}}));
    assert.deepEqual(two.map((n) => n.text), ["2 items waiting for your review", "Review your item", "Review Scarf"]);
  });

  test("a large friend count is written as the buyer's language writes numbers", () => {
    const german = views.referPageView(answer({referral: referral(), account: {...account, friend_count: 1234}}),
      {translate: ACCOUNT.translate, formatNumber: (n) => new Intl.NumberFormat("de").format(n)});
    assert.equal(byType(german, "figures")[0].items.at(-1).value, "1.234");
  });
});

describe("profile block", () => {
  test("the link, the credit and the way to the full page; no share buttons in the compact block", () => {
    const nodes = profileView(answer({referral: referral(), account: {credit_earned: "10.00 USD", credit_pending: "0.00 USD",
      friends: [], friend_count: 0}}), {pageUrl: "extension://advocate-account"});
    assert.deepEqual(nodes.map((n) => n.type), ["heading", "text", "copy", "figures", "link"]);
    assert.deepEqual(nodes.at(-1), {type: "link", text: "See your friends and credit", url: "extension://advocate-account"});
    assert.deepEqual(byType(nodes, "figures")[0].items.map((i) => i.label), ["Credit earned", "Credit on the way"]);
  });

  test("without a page address (devstore's host) there is no link; without a referral part, nothing", () => {
    assert.equal(byType(profileView(answer({referral: referral()})), "link").length, 0);
    assert.deepEqual(profileView(answer({account: {awaiting_review: []}}), {pageUrl: "extension://advocate-account"}), []);
  });
});

test("a malformed answer never throws: odd parts are left out", () => {
  const odd = answer({
    referral: referral({share_targets: {label: "x"}}),
    review: {state: "ready", items: [null, {title: "Hat", stars: "five"}]},
    account: {friends: [null], friend_count: "many", credit_earned: "1.00 USD", awaiting_review: "soon"},
  });
  for (const view of [thankYouView, orderStatusView, referPageView, profileView]) assert.doesNotThrow(() => view(odd));
  assert.deepEqual(byType(orderStatusView(odd), "stars"), []);
  assert.deepEqual(byType(referPageView(odd), "list")[0].items, [{text: "A friend", detail: ""}]);
  assert.equal(byType(thankYouView(odd), "share")[0].targets.length, 1); // only "More ways to share"
});

// A fake fetch: answers in order, records every request.
function server(...answers) {
  const requests = [];
  const fetch = async (url, init) => {
    requests.push({url, headers: init.headers});
    const next = answers[Math.min(requests.length, answers.length) - 1];
    if (next instanceof Error) throw next;
    if (typeof next === "number") return {ok: next < 400, status: next, json: async () => ({error: "no"})};
    if (next === "bad json") return {ok: true, status: 200, json: async () => JSON.parse("<html>")};
    return {ok: true, status: 200, json: async () => structuredClone(next)};
  };
  return {fetch, requests};
}

function tokens() {
  let n = 0;
  return {get: async () => `token-${++n}`, get count() { return n; }};
}

function load(fake, options = {}) {
  const waits = [];
  const sessionToken = tokens();
  const result = loadBuyerData({appUrl: `${APP}/`, surface: "thank-you", orderId: "gid://shopify/OrderIdentity/9",
    sessionToken, fetch: fake.fetch, wait: async (ms) => { waits.push(ms); }, ...options});
  return {result, waits, sessionToken};
}

describe("loadBuyerData", () => {
  test("asks the endpoint for the surface and order with the session token and returns its answer", async () => {
    const fake = server(answer({referral: referral()}));
    const {result} = load(fake);
    assert.equal((await result).referral.link, LINK);
    assert.equal(fake.requests.length, 1);
    assert.equal(fake.requests[0].url, `${APP}/ext/v1/buyer?surface=thank-you&order=gid%3A%2F%2Fshopify%2FOrderIdentity%2F9`);
    assert.deepEqual(fake.requests[0].headers, {Authorization: "Bearer token-1", Accept: "application/json"});
  });

  test("the extension's language goes along, so that Advocate can write its part in it", async () => {
    const fake = server(answer());
    await load(fake, {surface: "order-status", orderId: "gid://shopify/Order/9", locale: "ko"}).result;
    assert.equal(fake.requests[0].url, `${APP}/ext/v1/buyer?surface=order-status&order=gid%3A%2F%2Fshopify%2FOrder%2F9&locale=ko`);
  });

  test("a page without an order leaves the order out of the query", async () => {
    const fake = server(answer());
    await load(fake, {surface: "account", orderId: undefined}).result;
    assert.equal(fake.requests[0].url, `${APP}/ext/v1/buyer?surface=account`);
  });

  for (const status of [401, 403, 404, 429, 500, 503]) {
    test(`an answer of ${status} gives null, so nothing renders`, async () => {
      assert.equal(await load(server(status)).result, null);
    });
  }

  test("a network error, a page that is not JSON, a JSON list or a failing session token give null", async () => {
    assert.equal(await load(server(new TypeError("Failed to fetch"))).result, null);
    assert.equal(await load(server("bad json")).result, null);
    assert.equal(await load(server([1, 2])).result, null);
    const fake = server(answer({referral: referral()}));
    const failing = loadBuyerData({appUrl: APP, surface: "thank-you", fetch: fake.fetch,
      sessionToken: {get: async () => { throw new Error("no token"); }}});
    assert.equal(await failing, null);
    assert.equal(fake.requests.length, 0);
  });

  test("while the link is being made it waits as told and asks again, with a fresh token each time", async () => {
    const preparing = answer({referral: referral({state: "preparing", link: undefined, retry_after: 5})});
    const fake = server(preparing, preparing, answer({referral: referral()}));
    const {result, waits, sessionToken} = load(fake);
    assert.equal((await result).referral.state, "ready");
    assert.deepEqual(waits, [5000, 5000]);
    assert.equal(sessionToken.count, 3);
    assert.deepEqual(fake.requests.map((r) => r.headers.Authorization), ["Bearer token-1", "Bearer token-2", "Bearer token-3"]);
  });

  test("it asks at most maxTries times in all and then returns the last answer", async () => {
    const preparing = answer({referral: referral({state: "preparing", link: undefined, retry_after: 4})});
    const three = server(preparing);
    const {result, waits} = load(three);
    assert.equal((await result).referral.state, "preparing");
    assert.equal(three.requests.length, 3);
    assert.equal(waits.length, 2);
    const one = server(preparing);
    await load(one, {maxTries: 1}).result;
    assert.equal(one.requests.length, 1);
  });

  test("a long retry_after is capped, and no retry_after means no retry", async () => {
    const slow = server(answer({referral: referral({state: "preparing", retry_after: 3600})}), answer({referral: referral()}));
    const {result, waits} = load(slow);
    await result;
    assert.deepEqual(waits, [30000]);
    const none = server(answer({referral: referral({state: "preparing"})}));
    await load(none).result;
    assert.equal(none.requests.length, 1);
  });

  test("a failure while asking again gives null", async () => {
    const fake = server(answer({referral: referral({state: "preparing", retry_after: 4})}), 500);
    assert.equal(await load(fake).result, null);
  });
});
