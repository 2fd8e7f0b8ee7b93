/** @jsxImportSource preact */
import "@shopify/ui-extensions/preact";
import {render} from "preact";

import {profileView} from "../../shared/advocate-view.js";
import {AdvocateBlock} from "../../shared/render.jsx";

// The full "Refer friends" page, by its extension's handle (customer accounts' extension:// protocol).
const REFER_PAGE = "extension://advocate-account";

export default async () => {
  render(<AdvocateBlock surface="profile" view={profile} />, document.body);
};

function profile(data, i18n) {
  return profileView(data, i18n, {pageUrl: REFER_PAGE});
}
