/** @jsxImportSource preact */
import "@shopify/ui-extensions/preact";
import {render} from "preact";

import {thankYouView} from "../../shared/advocate-view.js";
import {AdvocateBlock} from "../../shared/render.jsx";

export default async () => {
  render(<ThankYou />, document.body);
};

function ThankYou() {
  // gid://shopify/OrderIdentity/… until Shopify creates the order; Advocate reads the number from either.
  const orderId = shopify.orderConfirmation.value?.order?.id;
  return <AdvocateBlock surface="thank-you" orderId={orderId} view={thankYouView} />;
}
