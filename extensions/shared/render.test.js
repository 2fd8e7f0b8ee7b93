// The Polaris renderer (render.jsx) drawn into a small fake document, as Shopify's host would
// receive it: which components, with which properties and text. render.jsx is bundled with
// esbuild exactly as scripts/build_extensions.js does, Advocate's address defined the same way.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {after, before, beforeEach, describe, test} from "node:test";
import {fileURLToPath} from "node:url";

import esbuild from "esbuild";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const APP = "https://advocate.test";
const LINK = "https://maple.myshopify.com/apps/advocate/referrals/r/MAYA-7K2Q";

class FakeNode {
  constructor(document) {
    this.ownerDocument = document;
    this.parentNode = null;
    this.childNodes = [];
  }

  get firstChild() {
    return this.childNodes[0] || null;
  }

  get nextSibling() {
    const siblings = this.parentNode?.childNodes || [];
    return siblings[siblings.indexOf(this) + 1] || null;
  }

  insertBefore(node, reference) {
    node.parentNode?.removeChild(node);
    const at = reference ? this.childNodes.indexOf(reference) : -1;
    this.childNodes.splice(at < 0 ? this.childNodes.length : at, 0, node);
    node.parentNode = this;
    return node;
  }

  appendChild(node) {
    return this.insertBefore(node, null);
  }

  removeChild(node) {
    this.childNodes.splice(this.childNodes.indexOf(node), 1);
    node.parentNode = null;
    return node;
  }

  get textContent() {
    return this.nodeType === 3 ? this.data : this.childNodes.map((c) => c.textContent).join("");
  }
}

class FakeText extends FakeNode {
  constructor(document, data) {
    super(document);
    this.nodeType = 3;
    this.data = String(data);
  }
}

class FakeElement extends FakeNode {
  constructor(document, localName) {
    super(document);
    this.nodeType = 1;
    this.localName = localName;
    this.namespaceURI = "http://www.w3.org/1999/xhtml";
    this.attributes = new Map();
    this.listeners = new Map();
    this.oncopy = null; // as on any HTMLElement, so Preact's onCopy listens for "copy"
  }

  setAttribute(name, value) {
    this.attributes.set(name, String(value));
  }

  removeAttribute(name) {
    this.attributes.delete(name);
  }

  getAttribute(name) {
    return this.attributes.has(name) ? this.attributes.get(name) : null;
  }

  addEventListener(type, listener) {
    this.listeners.set(type, listener);
  }

  removeEventListener(type) {
    this.listeners.delete(type);
  }

  dispatch(type) {
    const listener = this.listeners.get(type);
    assert.ok(listener, `${this.localName} listens for ${type}`);
    listener.call(this, {type, currentTarget: this, target: this});
  }

  all(localName) {
    return this.childNodes.flatMap((c) => (c.nodeType === 1 ? [...(c.localName === localName ? [c] : []), ...c.all(localName)] : []));
  }

  one(localName) {
    const [found] = this.all(localName);
    assert.ok(found, `a <${localName}> is drawn`);
    return found;
  }
}

const document = {
  createElementNS: (_ns, name) => new FakeElement(document, name),
  createElement: (name) => new FakeElement(document, name),
  createTextNode: (data) => new FakeText(document, data),
};
document.documentElement = new FakeElement(document, "html");

let ui;
let out;
const saved = {};

before(async () => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), "advocate-render-"));
  const bundle = path.join(out, "render.mjs");
  await esbuild.build({
    stdin: {contents: 'export {AdvocateBlock, Nodes} from "./render.jsx"; export {render, h} from "preact";',
      resolveDir: HERE, loader: "js"},
    outfile: bundle, bundle: true, format: "esm", jsx: "automatic", jsxImportSource: "preact",
    define: {"process.env.ADVOCATE_APP_URL": JSON.stringify(APP)}, logLevel: "error",
  });
  for (const name of ["document", "shopify", "fetch"]) saved[name] = globalThis[name];
  globalThis.document = document;
  ui = await import(bundle);
});

after(() => {
  for (const [name, value] of Object.entries(saved)) globalThis[name] = value;
  fs.rmSync(out, {recursive: true, force: true});
});

let root;
beforeEach(() => {
  root = new FakeElement(document, "body");
});

function draw(nodes) {
  ui.render(ui.h(ui.Nodes, {nodes}), root);
  return root;
}

async function until(check, what) {
  for (let i = 0; i < 100; i += 1) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe("the Polaris renderer", () => {
  test("the referral link is a read-only field with a Copy button wired to a clipboard item, and says Copied", async () => {
    draw([{type: "heading", text: "Give a friend 10% off"},
      {type: "copy", label: "Your referral link", value: LINK, button: "Copy", done: "Copied"}]);
    assert.equal(root.one("s-heading").textContent, "Give a friend 10% off");
    const field = root.one("s-text-field");
    assert.equal(field.getAttribute("label"), "Your referral link");
    assert.equal(field.getAttribute("value"), LINK);
    assert.ok(field.getAttribute("readOnly") !== null);
    const button = root.one("s-button");
    assert.equal(button.textContent, "Copy");
    const clip = root.one("s-clipboard-item");
    assert.equal(button.getAttribute("command"), "--copy");
    assert.equal(button.getAttribute("commandFor"), clip.getAttribute("id"));
    assert.equal(clip.getAttribute("text"), LINK);
    assert.doesNotMatch(root.textContent, /Copied/);
    clip.dispatch("copy");
    await until(() => root.textContent.includes("Copied"), "the Copied line");
  });

  test("the words of the copy button and of the share row come from the view, in the buyer's language", async () => {
    draw([{type: "copy", label: "내 추천 링크", value: LINK, button: "복사", done: "복사했어요"},
      {type: "share", label: "내 링크 공유하기", targets: [{label: "카카오톡", url: "https://example.com/share"}]}]);
    assert.equal(root.one("s-text-field").getAttribute("label"), "내 추천 링크");
    assert.equal(root.one("s-button").textContent, "복사");
    assert.ok(root.all("s-stack").some((stack) => stack.getAttribute("accessibilityLabel") === "내 링크 공유하기"));
    root.one("s-clipboard-item").dispatch("copy");
    await until(() => root.textContent.includes("복사했어요"), "the Korean Copied line");
    assert.doesNotMatch(root.textContent, /Copy|Share/);
  });

  test("share targets are buttons; web ones open a new tab, mail and text messages the phone's app", () => {
    draw([{type: "share", label: "Share your link",
      targets: [{label: "WhatsApp", url: "https://wa.me/?text=hi"}, {label: "Email", url: "mailto:?body=hi"}]}]);
    const [whatsapp, email] = root.all("s-button");
    assert.deepEqual([whatsapp.textContent, whatsapp.getAttribute("href"), whatsapp.getAttribute("target")],
      ["WhatsApp", "https://wa.me/?text=hi", "_blank"]);
    assert.deepEqual([email.textContent, email.getAttribute("target")], ["Email", null]);
  });

  test("a product's stars are five links labelled 'n of 5 stars' beside its picture and title", () => {
    const links = [1, 2, 3, 4, 5].map((rating) => ({rating, url: `${APP}/reviews/r/t?rating=${rating}`, label: `${rating} of 5 stars`}));
    draw([{type: "stars", title: "Linen shirt", image: "https://cdn.example/shirt.jpg", links}]);
    assert.equal(root.one("s-product-thumbnail").getAttribute("src"), "https://cdn.example/shirt.jpg");
    assert.match(root.textContent, /Linen shirt/);
    const stars = root.all("s-link");
    assert.deepEqual(stars.map((s) => s.getAttribute("accessibilityLabel")), links.map((l) => l.label));
    assert.equal(stars[2].getAttribute("href"), `${APP}/reviews/r/t?rating=3`);
  });

  test("figures, lists, links and toned text are drawn with their words", () => {
    draw([
      {type: "figures", items: [{label: "Credit earned", value: "10.00 USD"}]},
      {type: "list", heading: "Friends who ordered", items: [{text: "Sam", detail: "Credit earned"}]},
      {type: "link", text: "Review Linen shirt", url: `${APP}/reviews/r/t`},
      {type: "text", text: "Thank you for your review!", tone: "success"},
      {type: "text", text: "We'll email you your link.", tone: "subdued"},
      {type: "unknown", text: "never drawn"},
    ]);
    assert.match(root.textContent, /Credit earned10\.00 USD/);
    assert.equal(root.one("s-list-item").textContent, "Sam · Credit earned");
    assert.equal(root.one("s-link").getAttribute("href"), `${APP}/reviews/r/t`);
    const [thanks, email] = root.all("s-paragraph");
    assert.equal(thanks.getAttribute("tone"), "success");
    assert.equal(email.getAttribute("color"), "subdued");
    assert.doesNotMatch(root.textContent, /never drawn/);
  });

  test("markup in text is drawn as text, never as elements", () => {
    draw([{type: "text", text: "<img src=x onerror=alert(1)>"}]);
    assert.equal(root.one("s-paragraph").textContent, "<img src=x onerror=alert(1)>");
    assert.equal(root.all("img").length, 0);
  });
});

describe("a target's block", () => {
  function serve(status, body) {
    const requests = [];
    globalThis.fetch = async (url, init) => {
      requests.push({url, init});
      return {ok: status < 400, status, json: async () => body};
    };
    let n = 0;
    const i18n = {translate: (key) => ({"referral.link_label": "내 추천 링크"})[key], formatNumber: String};
    globalThis.shopify = {sessionToken: {get: async () => `token-${++n}`}, i18n,
      localization: {extensionLanguage: {value: {isoCode: "ko"}}}};
    return requests;
  }

  // A view as advocate-view.js writes them: its words from the i18n it is given (Shopify's shopify.i18n).
  const view = (data, i18n) => [{type: "copy", label: i18n.translate("referral.link_label"), value: data.referral.link}];

  test("asks Advocate at the baked-in address with the buyer's token and language, and draws the answer in it", async () => {
    const requests = serve(200, {referral: {state: "ready", link: LINK}});
    ui.render(ui.h(ui.AdvocateBlock, {surface: "thank-you", orderId: "gid://shopify/OrderIdentity/9", view}), root);
    await until(() => root.all("s-text-field").length === 1, "the link");
    assert.equal(requests[0].url,
      `${APP}/ext/v1/buyer?surface=thank-you&order=gid%3A%2F%2Fshopify%2FOrderIdentity%2F9&locale=ko`);
    assert.equal(root.one("s-text-field").getAttribute("label"), "내 추천 링크");
    assert.equal(requests[0].init.headers.Authorization, "Bearer token-1");
    assert.equal(root.one("s-text-field").getAttribute("value"), LINK);
  });

  test("draws nothing when Advocate refuses or fails, and a full page says so quietly", async () => {
    let requests = serve(500, {error: "no"});
    ui.render(ui.h(ui.AdvocateBlock, {surface: "thank-you", view}), root);
    await until(() => requests.length === 1, "the request");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(root.all("s-stack").length + root.all("s-paragraph").length, 0);
    assert.equal(root.textContent, "");

    const page = new FakeElement(document, "body");
    requests = serve(401, {error: "no"});
    ui.render(ui.h(ui.AdvocateBlock, {surface: "account", view, emptyText: "There's nothing to show here right now."}), page);
    await until(() => page.textContent.includes("nothing to show"), "the empty page's line");
    assert.doesNotMatch(page.textContent, /error|401|wrong/i);
  });
});
