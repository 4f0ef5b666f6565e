//! HTML building blocks: escaping, the page frame and its inline style sheet.
//!
//! Plain `format!` with one escaping function rather than a template engine: the page is a few
//! tables and forms, every dynamic value goes through [`esc`] (tested below), and it keeps a
//! proc-macro crate and a template directory out of the build.

use std::fmt::Write as _;

/// Escapes text for an HTML text node or a double-quoted attribute value.
pub fn esc(text: impl AsRef<str>) -> String {
    let text = text.as_ref();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query parameter value (for the links and redirects the page builds).
pub fn query_value(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A complete page: title, the body's HTML (already escaped), no external assets.
pub fn page(title: &str, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 4096);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>\n",
        esc(title)
    );
    out
}

const STYLE: &str = r#"
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2933;background:#f4f6f8}
header{background:#1f3a5f;color:#fff;padding:10px 24px;display:flex;align-items:center;gap:16px}
header h1{font-size:18px;margin:0;font-weight:600}
header .when{opacity:.8;font-size:13px;margin-left:auto}
header form{margin:0}
main{max-width:1280px;margin:0 auto;padding:16px 24px 40px}
section{background:#fff;border:1px solid #d9e0e7;border-radius:6px;padding:14px 18px;margin:14px 0}
h2{font-size:16px;margin:0 0 10px}
p.hint{color:#52606d;margin:4px 0 10px;font-size:13px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e4e9ee;vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:#52606d;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.bad{color:#b42318;font-weight:600}
td.warn{color:#b54708;font-weight:600}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#eef2f6;padding:1px 4px;border-radius:3px}
.msg{max-width:420px;word-break:break-word}
button{font:inherit;font-size:13px;padding:3px 10px;border-radius:4px;border:1px solid #9aa5b1;background:#fff;cursor:pointer}
button.primary{background:#1f6feb;border-color:#1f6feb;color:#fff}
button.danger{border-color:#d92d20;color:#b42318}
header button{background:transparent;color:#fff;border-color:#8fa3bf}
td form{display:inline;margin:0 2px}
td.actions{white-space:nowrap}
.bulk{margin:0 0 10px}.bulk form{display:inline-block;margin-right:8px}
.filters{display:flex;gap:10px;align-items:end;flex-wrap:wrap;margin-bottom:10px}
.filters label{display:flex;flex-direction:column;font-size:12px;color:#52606d}
select,input[type=text],input[type=password]{font:inherit;padding:4px 6px;border:1px solid #9aa5b1;border-radius:4px;min-width:180px}
.gauge{height:22px;background:#e4e9ee;border-radius:11px;overflow:hidden;max-width:640px}
.gauge div{height:100%;background:#2e90fa}
.gauge div.high{background:#f79009}.gauge div.full{background:#d92d20}
.notice{background:#ecfdf3;border:1px solid #6ce9a6;padding:8px 12px;border-radius:6px}
.error{background:#fef3f2;border:1px solid #fda29b;padding:8px 12px;border-radius:6px}
.empty{color:#52606d;font-style:italic}
svg text{font-size:11px;fill:#52606d}
.login{max-width:520px;margin:60px auto}
.login textarea{width:100%;height:110px;font:12px ui-monospace,monospace}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(query_value("a b&c"), "a+b%26c");
    }
}
