// Shopify's Theme Check on a theme app extension: every offense printed, a JSON summary last,
// exit 1 on any error. `npm ci` installs it; `npm run theme-check` runs it on extensions/.
const { check } = require("@shopify/theme-check-node");
const root = process.argv[2];
check(root).then((offenses) => {
  for (const o of offenses) console.log(`${o.severity === 0 ? "error" : o.severity === 1 ? "warning" : "info"} ${o.check} ${o.uri}:${o.start?.line ?? ""} ${o.message}`);
  const errors = offenses.filter((o) => o.severity === 0).length;
  console.log(JSON.stringify({ offenses: offenses.length, errors }));
  process.exit(errors ? 1 : 0);
}).catch((e) => { console.error(e); process.exit(2); });
