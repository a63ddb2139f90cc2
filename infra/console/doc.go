// Package console holds the browser tests of the operators' console (GET /console, shared/console): headless
// Chromium (Debian's package, driven with chromedp over the DevTools protocol) on the whole issuer served as
// make run serves it (the local gateway with template.yaml's routes, on the local stack), with the scripted
// wallet of infra/load/flow as the holder. Screenshots of every screen go to .artifacts/console (or
// $CONSOLE_SCREENSHOTS). Without Chromium the tests skip, saying so.
package console
