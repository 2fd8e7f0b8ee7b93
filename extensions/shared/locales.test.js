// The UI extensions' locale files (extensions/<name>/locales/, Shopify's format for UI extensions):
// every language has every English key with the same {{placeholders}}, the plural forms its language
// needs, no English left in it; the extensions use exactly the keys their files hold; and the views
// read entirely in Korean for a Korean buyer.
// Run: npm run test:extensions
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {describe, test} from "node:test";
import {fileURLToPath} from "node:url";

import * as views from "./advocate-view.js";
import {localeI18n} from "./advocate-view.js";

const EXTENSIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// Advocate's shopper languages besides English (shopapp/settings.py LANGUAGES).
const LANGUAGES = ["ko", "ja", "de", "fr", "es"];
const PLURAL_FORMS = new Set(["zero", "one", "two", "few", "many", "other"]);
// The same in English and in a translation, rightly (names, codes): [language, key]. None so far.
const SAME_AS_ENGLISH = new Set([]);

/** The UI extensions (type "ui_extension" in their toml), with the source of each target's module. */
function uiExtensions() {
  return fs.readdirSync(EXTENSIONS_DIR).sort().flatMap((name) => {
    const toml = path.join(EXTENSIONS_DIR, name, "shopify.extension.toml");
    if (!fs.existsSync(toml)) return [];
    const config = fs.readFileSync(toml, "utf8");
    if (!/^\s*type\s*=\s*"ui_extension"/m.test(config)) return [];
    const modules = [...config.matchAll(/^\s*module\s*=\s*"([^"]+)"/gm)]
      .map((match) => fs.readFileSync(path.join(EXTENSIONS_DIR, name, match[1]), "utf8"));
    return [{name, modules}];
  });
}

const EXTENSIONS = uiExtensions();

function localeFile(extension, language) {
  const file = language === "en" ? "en.default.json" : `${language}.json`;
  return JSON.parse(fs.readFileSync(path.join(EXTENSIONS_DIR, extension, "locales", file), "utf8"));
}

const isPlural = (entry) => entry !== null && typeof entry === "object" && Object.keys(entry).every((k) => PLURAL_FORMS.has(k));

/** key -> a string, or a plural entry ({one, other, ...}) as one leaf. */
function leaves(tree, prefix = "") {
  return Object.fromEntries(Object.entries(tree).flatMap(([key, entry]) => {
    const name = prefix ? `${prefix}.${key}` : key;
    return typeof entry === "string" || isPlural(entry) ? [[name, entry]] : Object.entries(leaves(entry, name));
  }));
}

const forms = (entry) => (typeof entry === "string" ? [entry] : Object.values(entry));
const placeholders = (text) => [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();

test("each UI extension has an English default and one file for each shopper language, nothing else", () => {
  assert.deepEqual(EXTENSIONS.map((e) => e.name), ["advocate-account", "advocate-checkout"]);
  for (const {name} of EXTENSIONS) {
    const files = fs.readdirSync(path.join(EXTENSIONS_DIR, name, "locales")).sort();
    assert.deepEqual(files, ["de.json", "en.default.json", "es.json", "fr.json", "ja.json", "ko.json"], name);
  }
});

for (const {name} of EXTENSIONS) {
  const english = leaves(localeFile(name, "en"));

  describe(`${name}'s locale files`, () => {
    for (const language of LANGUAGES) {
      const translated = leaves(localeFile(name, language));

      test(`${language}: exactly the English keys, each with the English {{placeholders}}`, () => {
        assert.deepEqual(Object.keys(translated).sort(), Object.keys(english).sort());
        for (const [key, entry] of Object.entries(english)) {
          const wanted = placeholders(forms(entry).at(-1));
          assert.equal(typeof translated[key] === "string", typeof entry === "string", `${key}: plural in one, not the other`);
          for (const form of forms(translated[key])) assert.deepEqual(placeholders(form), wanted, `${language} ${key}: ${form}`);
        }
      });

      test(`${language}: counted strings have exactly the plural forms of the language`, () => {
        const needed = new Intl.PluralRules(language).resolvedOptions().pluralCategories.sort();
        const counted = Object.entries(translated).filter(([, entry]) => typeof entry !== "string");
        assert.ok(counted.length > 0 || !Object.values(english).some(isPlural));
        for (const [key, entry] of counted) assert.deepEqual(Object.keys(entry).sort(), needed, key);
      });

      test(`${language}: no English is left`, () => {
        const same = Object.keys(english).filter((key) => !SAME_AS_ENGLISH.has(`${language}:${key}`)
          && JSON.stringify(translated[key]) === JSON.stringify(english[key]));
        assert.deepEqual(same, []);
        if (language === "ko" || language === "ja") {
          const latin = Object.entries(translated).flatMap(([key, entry]) => forms(entry)
            .map((form) => [key, form.replace(/\{\{\s*\w+\s*\}\}/g, "")]).filter(([, rest]) => /[A-Za-z]{2,}/.test(rest)));
          assert.deepEqual(latin, []);
        }
      });
    }

    test("English counted strings have English's forms", () => {
      for (const [key, entry] of Object.entries(english).filter(([, e]) => isPlural(e))) {
        assert.deepEqual(Object.keys(entry).sort(), ["one", "other"], key);
      }
    });
  });
}

test("the words both extensions show (the referral, the credit) read the same in both, in every language", () => {
  for (const language of ["en", ...LANGUAGES]) {
    const [a, b] = EXTENSIONS.map((e) => leaves(localeFile(e.name, language)));
    const shared = Object.keys(a).filter((key) => key in b);
    assert.ok(shared.length >= 10);
    for (const key of shared) assert.deepEqual(a[key], b[key], `${language} ${key}`);
  }
});

// Answers of /ext/v1/buyer in all their shapes, so that every word a view can write is written.
const APP = "https://app.example";
const REFERRALS = [
  {state: "ready", link: `${APP}/r/A`, share_url: `${APP}/s/A`, friend_offer: "10% off", reward: "$10.00",
    share_targets: [{label: "Email", url: "mailto:?body=hi"}]},
  {state: "ready", link: `${APP}/r/A`},
  {state: "preparing", retry_after: 4, friend_offer: "10% off"},
  {state: "by_email", reward: "$10.00"},
];
const REVIEWS = [
  {state: "ready", form_url: `${APP}/f`, items: [{title: "Mug", stars: [{rating: 4, url: `${APP}/f?r=4`}]},
    {title: "", stars: [{rating: 5, url: `${APP}/f?r=5`}]}]},
  {state: "done"},
];
const ACCOUNTS = [
  {friends: [{first_name: "Sam", status: "Credit earned"}, {first_name: "", status: ""}], friend_count: 2,
    credit_earned: "$10.00", credit_pending: "$0.00", awaiting_review: [{title: "Mug", url: `${APP}/f?i=1`}, {title: "", url: `${APP}/f?i=2`}]},
  {friends: [], friend_count: 0, credit_earned: "$0.00", awaiting_review: []},
];
const ANSWERS = [null, ...REFERRALS].flatMap((referral) => [null, ...REVIEWS].flatMap((review) =>
  [null, ...ACCOUNTS].map((account) => ({shop_name: "Shop", referral, review, account}))));

/** What an extension's targets show: the views their modules import, and the keys they translate themselves. */
function targetsOf(extension) {
  const viewNames = extension.modules.flatMap((source) => [...source.matchAll(/\b(\w+View)\b/g)].map((m) => m[1]));
  const ownKeys = extension.modules.flatMap((source) => [...source.matchAll(/\bt\("([\w.]+)"\)/g)].map((m) => m[1]));
  return {views: [...new Set(viewNames)], ownKeys};
}

function show(viewName, data, i18n) {
  return viewName === "profileView" ? views.profileView(data, i18n, {pageUrl: "extension://advocate-account"}) : views[viewName](data, i18n);
}

for (const extension of EXTENSIONS) {
  test(`${extension.name} uses every key of its locale files and no other`, () => {
    const {views: names, ownKeys} = targetsOf(extension);
    assert.ok(names.length > 0 && names.every((n) => typeof views[n] === "function"), names.join());
    const english = localeI18n(localeFile(extension.name, "en"), "en");
    const used = new Set(ownKeys);
    const recording = {...english, translate: (key, replacements) => {
      used.add(key);
      return english.translate(key, replacements);  // a key the file lacks throws
    }};
    for (const name of names) for (const data of ANSWERS) show(name, data, recording);
    for (const key of ownKeys) english.translate(key);
    assert.deepEqual([...used].sort(), Object.keys(leaves(localeFile(extension.name, "en"))).sort());
  });
}

describe("in the buyer's language", () => {
  // The answer as Advocate writes it for a Korean buyer: its own words (offer, reward, statuses, share
  // labels) in Korean too; names and titles as the shop and the friends wrote them.
  const korean = {
    shop_name: "메이플 앤 모스",
    referral: {state: "ready", link: `${APP}/r/MAYA`, share_url: `${APP}/s/MAYA`, friend_offer: "첫 주문 10% 할인",
      reward: "적립금 ₩10,000", share_targets: [{label: "WhatsApp", url: "https://wa.me/?text=hi"},
        {label: "문자 메시지", url: "sms:?&body=hi"}, {label: "이메일", url: "mailto:?body=hi"}]},
    review: {state: "ready", form_url: `${APP}/f`, items: [
      {title: "리넨 셔츠", image: "https://cdn.example/shirt.jpg", stars: [1, 2, 3, 4, 5].map((rating) => ({rating, url: `${APP}/f?r=${rating}`}))},
      {title: "", stars: [{rating: 3, url: `${APP}/f?r=3`}]}]},
    account: {friends: [{first_name: "민준", status: "적립금 지급 완료"}, {first_name: "", status: "주문 완료: 적립금 지급 예정"}],
      friend_count: 2, credit_earned: "₩10,000", credit_pending: "₩10,000",
      awaiting_review: [{title: "리넨 셔츠", url: `${APP}/f?i=1`}, {title: "", url: `${APP}/f?i=2`}]},
  };
  const ALLOWED_LATIN = new Set(["WhatsApp"]);  // a brand's name

  /** Every string a buyer sees or hears (labels for screen readers too); addresses are not words. */
  function words(node) {
    if (typeof node === "string") return /^(?:https?|mailto|sms|extension):/.test(node) ? [] : [node];
    if (Array.isArray(node)) return node.flatMap(words);
    if (node && typeof node === "object") {
      return Object.entries(node).filter(([key]) => !["type", "url", "image", "tone"].includes(key)).flatMap(([, v]) => words(v));
    }
    return [];
  }

  for (const extension of EXTENSIONS) {
    test(`${extension.name}'s views show a Korean buyer no English word`, () => {
      const i18n = localeI18n(localeFile(extension.name, "ko"), "ko");
      const {views: names, ownKeys} = targetsOf(extension);
      const shown = [...ownKeys.map((key) => i18n.translate(key)),
        ...names.flatMap((name) => [korean, {...korean, referral: {...korean.referral, state: "by_email"}},
          {...korean, review: {state: "done"}}].flatMap((data) => words(show(name, data, i18n))))];
      assert.ok(shown.length > 20);
      const latin = shown.filter((text) => [...text.matchAll(/[A-Za-z]{2,}/g)].some((m) => !ALLOWED_LATIN.has(m[0])));
      assert.deepEqual(latin, []);
    });
  }

  test("Korean reads as written for Korean buyers", () => {
    const checkout = localeI18n(localeFile("advocate-checkout", "ko"), "ko");
    const account = localeI18n(localeFile("advocate-account", "ko"), "ko");
    const status = views.orderStatusView(korean, checkout);
    assert.equal(status[0].text, "상품 리뷰 남기기");
    assert.deepEqual(status.find((n) => n.type === "stars").links.map((l) => l.label).slice(0, 2),
      ["별점 5점 만점에 1점", "별점 5점 만점에 2점"]);
    assert.deepEqual(status.filter((n) => n.type === "stars").map((n) => n.title), ["리넨 셔츠", "구매한 상품"]);
    const page = views.referPageView(korean, account);
    assert.equal(page[0].text, "친구에게 첫 주문 10% 할인 혜택을 선물하세요");
    assert.equal(page[1].text, "친구가 내 링크로 주문하면 적립금 ₩10,000 혜택을 받을 수 있어요.");
    assert.deepEqual(page.find((n) => n.type === "copy"),
      {type: "copy", label: "내 추천 링크", value: `${APP}/r/MAYA`, button: "복사", done: "복사했어요"});
    assert.deepEqual(page.find((n) => n.type === "list").items.map((i) => i.text), ["민준", "친구"]);
    assert.deepEqual(page.filter((n) => n.type === "heading").map((n) => n.text).at(-1), "리뷰를 기다리는 상품 2개");
    assert.equal(account.translate("page.title"), "친구 추천");
  });

  test("a counted heading agrees with its count in each language", () => {
    const heading = (language, count) => localeI18n(localeFile("advocate-account", language), language)
      .translate("account.awaiting", {count});
    assert.deepEqual([1, 3].map((n) => heading("de", n)), ["1 Artikel wartet auf Ihre Bewertung", "3 Artikel warten auf Ihre Bewertung"]);
    assert.deepEqual([1, 3].map((n) => heading("fr", n)), ["1 article attend votre avis", "3 articles attendent votre avis"]);
    assert.deepEqual([1, 3].map((n) => heading("es", n)), ["1 producto espera tu reseña", "3 productos esperan tu reseña"]);
    assert.equal(heading("fr", 1000000), "1000000 d’articles attendent votre avis");
    assert.deepEqual([1, 3].map((n) => heading("ja", n)), ["レビュー待ちの商品：1点", "レビュー待ちの商品：3点"]);
  });

  test("localeI18n refuses a key its file lacks, and leaves a placeholder without a value as written", () => {
    const i18n = localeI18n({a: {b: "Hi {{name}} and {{other}}"}}, "en");
    assert.equal(i18n.translate("a.b", {name: "Sam"}), "Hi Sam and {{other}}");
    assert.throws(() => i18n.translate("a.c"), /No "a.c"/);
    assert.throws(() => i18n.translate("a"), /No "a"/);
  });
});
