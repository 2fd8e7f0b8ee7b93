/** @jsxImportSource preact */
import "@shopify/ui-extensions/preact";
import {render} from "preact";

import {referPageView} from "../../shared/advocate-view.js";
import {AdvocateBlock} from "../../shared/render.jsx";

export default async () => {
  render(
    <s-page heading="Refer friends">
      <AdvocateBlock surface="account" view={referPageView} emptyText="There's nothing to show here right now." />
    </s-page>,
    document.body,
  );
};
