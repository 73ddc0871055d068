// Builds assets/vendor/plotly-<version>-scattergl-bar.min.js with plotly.js's own esbuild settings
// (node_modules/plotly.js/esbuild-config.js), from entry.js instead of its index of every trace.
const esbuild = require('esbuild');
const { environmentPlugin } = require('esbuild-plugin-environment');
const { glsl } = require('esbuild-plugin-glsl');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');
const path = require('path');
const version = require('plotly.js/package.json').version;
const out = path.join(__dirname, '..', '..', 'assets', 'vendor', `plotly-${version}-scattergl-bar.min.js`);
esbuild
  .build({
    entryPoints: [path.join(__dirname, 'entry.js')],
    outfile: out,
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    sourcemap: false,
    banner: { js: `/* plotly.js v${version} (scatter, scattergl, bar), MIT licence: assets/vendor/plotly-LICENSE. Built by scripts/plotly-bundle. */` },
    plugins: [InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
    alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
    define: { global: 'window', 'define.amd': 'false' },
    target: 'es2016',
    logLevel: 'info',
  })
  .then(() => console.log(out))
  .catch(() => process.exit(1));
