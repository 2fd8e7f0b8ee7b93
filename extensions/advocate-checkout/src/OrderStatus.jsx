/** @jsxImportSource preact */
import "@shopify/ui-extensions/preact";
import {render} from "preact";

import {orderStatusView} from "../../shared/advocate-view.js";
import {AdvocateBlock} from "../../shared/render.jsx";

export default async () => {
  render(<OrderStatus />, document.body);
};

function OrderStatus() {
  // Advocate shows this order's review row only when the token's customer is the order's.
  const orderId = shopify.order.value?.id;
  return <AdvocateBlock surface="order-status" orderId={orderId} view={orderStatusView} />;
}
