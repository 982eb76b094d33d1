// The Analysis panel's webview entry.
export {};
