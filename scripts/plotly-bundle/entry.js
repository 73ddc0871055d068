// The traces the dashboard draws: the map (scattergl) and label shares (bar); scatter is in plotly.js's core.
var Plotly = require('plotly.js/lib/core');
Plotly.register([require('plotly.js/lib/scattergl'), require('plotly.js/lib/bar')]);
module.exports = Plotly;
