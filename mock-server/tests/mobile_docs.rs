//! `docs/mobile.md`'s host snippets (Swift, Kotlin, React Native, Flutter) against the WebView
//! page's script: the handler name, the two prefixes, the result's keys and the page's path
//! must be the ones `assets/webview.js` and the SDK use. The snippets cannot be compiled here
//! (no iOS or Android toolchain); this keeps them from drifting from the page.

const DOC: &str = include_str!("../../docs/mobile.md");
const PAGE_JS: &str = include_str!("../assets/webview.js");
const SDK_JS: &str = include_str!("../assets/truorasdk.js");

/// The quoted value that follows `marker` in the page's script: `var HANDLER = 'x'` gives `x`.
fn js_value(marker: &str) -> &'static str {
    let rest = &PAGE_JS[PAGE_JS
        .find(marker)
        .unwrap_or_else(|| panic!("webview.js lacks `{marker}`"))
        + marker.len()..];
    let start = rest.find('\'').expect("a quoted value") + 1;
    let end = start + rest[start..].find('\'').expect("a closing quote");
    &rest[start..end]
}

/// The fenced blocks of `lang` in the doc.
fn blocks(lang: &str) -> Vec<&'static str> {
    let fence = format!("```{lang}\n");
    DOC.match_indices(&fence)
        .map(|(i, _)| {
            let body = &DOC[i + fence.len()..];
            &body[..body.find("\n```").expect("a closed block")]
        })
        .collect()
}

fn quoted(code: &str, s: &str) -> bool {
    code.contains(&format!("\"{s}\"")) || code.contains(&format!("'{s}'"))
}

#[test]
fn the_snippets_use_the_pages_names() {
    let handler = js_value("var HANDLER = ");
    let complete = js_value("complete: ");
    let expired = js_value("expired: ");
    assert_eq!(
        (handler, complete, expired),
        ("callbackHandler", "onComplete:", "onExpired:")
    );
    // The SDK's callback result, which the page posts as JSON, has exactly these keys.
    assert!(SDK_JS.contains("var payload = { status: st.result, validationID:"));
    for lang in ["swift", "kotlin", "jsx", "dart"] {
        let found = blocks(lang);
        assert_eq!(found.len(), 1, "one {lang} snippet");
        let code = found[0];
        for prefix in [complete, expired] {
            assert!(quoted(code, prefix), "{lang} splits on {prefix}");
        }
        // React Native has no handler name: the page posts to window.ReactNativeWebView.
        if lang == "jsx" {
            assert!(code.contains("onMessage="), "{lang}");
        } else {
            assert!(quoted(code, handler), "{lang} registers {handler}");
        }
        assert!(
            code.contains("/sdk/webview")
                && (code.contains("?validation_id=") || quoted(code, "validation_id")),
            "{lang} opens the page with its validation_id"
        );
        assert!(
            code.contains("status") && code.contains("validationID"),
            "{lang} reads the result"
        );
    }
    // The tables name what the page calls.
    for call in [
        "window.webkit.messageHandlers.callbackHandler.postMessage(message)",
        "window.callbackHandler.postMessage(message)",
        "window.flutter_inappwebview.callHandler('callbackHandler', message)",
        "window.ReactNativeWebView.postMessage(message)",
        "window.parent.postMessage(message, '*')",
    ] {
        assert!(DOC.contains(call), "{call}");
    }
    for js in [
        "w.webkit && w.webkit.messageHandlers && w.webkit.messageHandlers[name]",
        "var named = w[name];",
        "inapp.callHandler(name, m)",
        "rn.postMessage(m)",
        "w.parent.postMessage(m, '*')",
    ] {
        assert!(PAGE_JS.contains(js), "webview.js: {js}");
    }
    assert_eq!(js_value("var HOSTED_HANDLER = "), "WebViewSDK");
    for event in [
        "truora.steps.completed",
        "truora.process.succeeded",
        "truora.process.failed",
    ] {
        assert!(
            PAGE_JS.contains(&format!("'{event}'")) && DOC.contains(&format!("`{event}`")),
            "{event}"
        );
    }
}
