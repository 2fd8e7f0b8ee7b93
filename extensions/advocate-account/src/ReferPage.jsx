/** @jsxImportSource preact */
import "@shopify/ui-extensions/preact";
import {render} from "preact";

import {referPageView} from "../../shared/advocate-view.js";
import {AdvocateBlock} from "../../shared/render.jsx";

export default async () => {
  // Words from locales/<language>.json, in the language Shopify picked for the customer.
  const t = (key) => shopify.i18n.translate(key);
  render(
    <s-page heading={t("page.title")}>
      <AdvocateBlock surface="account" view={referPageView} emptyText={t("page.empty")} />
    </s-page>,
    document.body,
  );
};
