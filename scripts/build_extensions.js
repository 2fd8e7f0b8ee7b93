// Bundles each UI extension (extensions/*/shopify.extension.toml with type "ui_extension") the
// way Shopify CLI does: one minified file per extension, dist/<handle>.js, whose entry registers
// every target's module with shopify.extend(). Prints each bundle's size and exits 1 when one is
// over Shopify's limit, which Shopify enforces at deploy.
//
// Advocate's address is baked in: ADVOCATE_APP_URL, or application_url in shopify.app.toml.
const fs = require("node:fs");
const path = require("node:path");
const zlib = require("node:zlib");
const esbuild = require("esbuild");

const ROOT = path.resolve(__dirname, "..");
// UI extensions on API 2025-10 and later: 64 KB of compressed JavaScript per extension, 128 KB for
// a full-page customer-account extension.
const LIMIT = 64 * 1024;
const FULL_PAGE_LIMIT = 128 * 1024;
const FULL_PAGE_TARGETS = new Set(["customer-account.page.render", "customer-account.order.page.render"]);

function appUrl() {
  if (process.env.ADVOCATE_APP_URL) return process.env.ADVOCATE_APP_URL;
  const config = fs.readFileSync(path.join(ROOT, "shopify.app.toml"), "utf8");
  const match = config.match(/^application_url\s*=\s*"([^"]+)"/m);
  if (!match) throw new Error("shopify.app.toml has no application_url; set ADVOCATE_APP_URL.");
  return match[1];
}

function uiExtensions() {
  const dir = path.join(ROOT, "extensions");
  return fs.readdirSync(dir).sort().flatMap((name) => {
    const toml = path.join(dir, name, "shopify.extension.toml");
    if (!fs.existsSync(toml)) return [];
    const config = fs.readFileSync(toml, "utf8");
    if (!/^\s*type\s*=\s*"ui_extension"/m.test(config)) return [];
    const handle = (config.match(/^\s*handle\s*=\s*"([^"]+)"/m) || [])[1] || name;
    // Each [[extensions.targeting]] table names its target and module; read them in order.
    const targets = config.split(/^\s*\[\[extensions\.targeting\]\]\s*$/m).slice(1).map((table) => ({
      target: (table.match(/^\s*target\s*=\s*"([^"]+)"/m) || [])[1],
      module: (table.match(/^\s*module\s*=\s*"([^"]+)"/m) || [])[1],
    }));
    if (!targets.length || targets.some((t) => !t.target || !t.module)) {
      throw new Error(`${toml}: every [[extensions.targeting]] needs a target and a module.`);
    }
    return [{name, handle, dir: path.join(dir, name), targets}];
  });
}

async function bundle(extension, url) {
  const entry = extension.targets.map(({target, module}, i) =>
    `import Target_${i} from ${JSON.stringify(module)};shopify.extend(${JSON.stringify(target)}, (...args) => Target_${i}(...args));`,
  ).join("\n");
  const outfile = path.join(extension.dir, "dist", `${extension.handle}.js`);
  const result = await esbuild.build({
    stdin: {contents: entry, resolveDir: extension.dir, sourcefile: "extension-entry.js", loader: "js"},
    outfile,
    bundle: true,
    minify: true,
    target: "es6", // as Shopify CLI builds
    jsx: "automatic",
    jsxImportSource: "preact",
    loader: {".js": "jsx"},
    define: {"process.env.ADVOCATE_APP_URL": JSON.stringify(url), "process.env.NODE_ENV": '"production"'},
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
  });
  fs.writeFileSync(path.join(extension.dir, "dist", `${extension.handle}.metafile.json`), JSON.stringify(result.metafile));
  const code = fs.readFileSync(outfile);
  const fullPage = extension.targets.some((t) => FULL_PAGE_TARGETS.has(t.target));
  return {outfile, raw: code.length, gzip: zlib.gzipSync(code, {level: 9}).length, limit: fullPage ? FULL_PAGE_LIMIT : LIMIT};
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

async function main() {
  const url = appUrl();
  const extensions = uiExtensions();
  if (!extensions.length) throw new Error("No ui_extension under extensions/.");
  let over = 0;
  console.log(`Advocate's address in the bundles: ${url}`);
  for (const extension of extensions) {
    const size = await bundle(extension, url);
    const ok = size.gzip <= size.limit;
    over += ok ? 0 : 1;
    console.log(`${ok ? "ok  " : "OVER"} ${path.relative(ROOT, size.outfile)}: ${kb(size.gzip)} compressed ` +
      `(${kb(size.raw)} minified), limit ${kb(size.limit)}; ${extension.targets.map((t) => t.target).join(", ")}`);
  }
  if (over) {
    console.error(`${over} bundle(s) over Shopify's UI-extension size limit: Shopify would refuse the deploy.`);
    process.exit(1);
  }
}

main().catch((error) => {
  console.error(error.message || error);
  process.exit(2);
});
