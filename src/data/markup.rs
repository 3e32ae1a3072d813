//! Item fields written as HTML, read as the plain text a shopper sees: shop
//! exports keep descriptions as HTML (Shopify's `Body (HTML)`, WooCommerce's
//! and Magento's descriptions, text pasted from Word with its `<o:p>`), and
//! catalogues escape characters as entities (Book-Crossing's `&amp;`, Amazon's
//! `&eacute;` and `&#9733;`). The sentence encoder reads the first 256 tokens
//! only, and a tag's attributes can fill them; so tags of HTML's elements are
//! taken out (with the content of `script` and `style`, and comments), the
//! entities of HTML 4 that product text uses are decoded, numeric ones too
//! (128–159 as browsers read them, by Windows-1252), and where anything
//! changed the white space is folded to single spaces. The WHATWG HTML
//! standard's named character references are the reference; names outside
//! the table, and a `<` that opens no known element (`<3`, `a < b`,
//! `<Author>`), stay as written.
use super::encoding::windows_1252;
use std::borrow::Cow;

/// HTML 4's Latin-1 entities, for U+00A0 to U+00FF in order.
const LATIN1: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

/// The other named entities product text uses: markup's own, typography,
/// symbols.
const OTHER: [(&str, char); 44] = [
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("ndash", '\u{2013}'),
    ("mdash", '\u{2014}'),
    ("lsquo", '\u{2018}'),
    ("rsquo", '\u{2019}'),
    ("sbquo", '\u{201a}'),
    ("ldquo", '\u{201c}'),
    ("rdquo", '\u{201d}'),
    ("bdquo", '\u{201e}'),
    ("lsaquo", '\u{2039}'),
    ("rsaquo", '\u{203a}'),
    ("bull", '\u{2022}'),
    ("hellip", '\u{2026}'),
    ("prime", '\u{2032}'),
    ("Prime", '\u{2033}'),
    ("dagger", '\u{2020}'),
    ("Dagger", '\u{2021}'),
    ("permil", '\u{2030}'),
    ("trade", '\u{2122}'),
    ("euro", '\u{20ac}'),
    ("OElig", '\u{152}'),
    ("oelig", '\u{153}'),
    ("Scaron", '\u{160}'),
    ("scaron", '\u{161}'),
    ("Yuml", '\u{178}'),
    ("fnof", '\u{192}'),
    ("circ", '\u{2c6}'),
    ("tilde", '\u{2dc}'),
    ("ensp", '\u{2002}'),
    ("emsp", '\u{2003}'),
    ("thinsp", '\u{2009}'),
    ("minus", '\u{2212}'),
    ("le", '\u{2264}'),
    ("ge", '\u{2265}'),
    ("larr", '\u{2190}'),
    ("rarr", '\u{2192}'),
    ("spades", '\u{2660}'),
    ("clubs", '\u{2663}'),
    ("hearts", '\u{2665}'),
    ("diams", '\u{2666}'),
];

/// HTML's elements (and Word's `o:p`): a `<` opens a tag only with one of these names.
const ELEMENTS: [&str; 104] = [
    "a",
    "abbr",
    "address",
    "area",
    "article",
    "aside",
    "audio",
    "b",
    "base",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "body",
    "br",
    "button",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "data",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "embed",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hr",
    "html",
    "i",
    "iframe",
    "img",
    "input",
    "ins",
    "kbd",
    "label",
    "legend",
    "li",
    "link",
    "main",
    "mark",
    "meta",
    "nav",
    "noscript",
    "o:p",
    "object",
    "ol",
    "optgroup",
    "option",
    "p",
    "param",
    "picture",
    "pre",
    "q",
    "s",
    "samp",
    "script",
    "section",
    "select",
    "small",
    "source",
    "span",
    "strike",
    "strong",
    "style",
    "sub",
    "summary",
    "sup",
    "svg",
    "table",
    "tbody",
    "td",
    "template",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "title",
    "tr",
    "track",
    "tt",
    "u",
    "ul",
    "var",
];

/// The elements read inline, with no space where their tags stood.
const INLINE: [&str; 31] = [
    "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn", "em", "font", "i",
    "ins", "kbd", "label", "mark", "o:p", "q", "s", "samp", "small", "span", "strike", "strong",
    "sub", "sup", "time", "tt", "u",
];

/// `s` as plain text (see the module's description); borrowed when it holds
/// neither a tag nor an entity.
pub fn plain(s: &str) -> Cow<'_, str> {
    if !s.contains(['<', '&']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut changed = false;
    let mut i = 0;
    while let Some(off) = s[i..].find(['<', '&']) {
        out.push_str(&s[i..i + off]);
        i += off;
        // What the markup at `i` reads as (a tag: a space, or nothing where
        // inline), and its length; else the `<` or `&` is text.
        let opener = char::from(s.as_bytes()[i]);
        let piece = match opener {
            '<' => tag(&s[i..]).map(|(n, inline)| ((!inline).then_some(' '), n)),
            _ => entity(&s[i..]).map(|(c, n)| (Some(c), n)),
        };
        match piece {
            Some((c, n)) => {
                out.extend(c);
                i += n;
                changed = true;
            }
            None => {
                out.push(opener);
                i += 1;
            }
        }
    }
    out.push_str(&s[i..]);
    if !changed {
        return Cow::Borrowed(s);
    }
    Cow::Owned(out.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The length of the tag (or comment) `s` opens with — for `script` and
/// `style`, up to the end of their closing tag — and whether its element is
/// inline, read with no space (`<b>Big</b>Sale` shows "BigSale").
fn tag(s: &str) -> Option<(usize, bool)> {
    if let Some(rest) = s.strip_prefix("<!--") {
        return rest.find("-->").map(|e| (4 + e + 3, true));
    }
    let closing = s[1..].starts_with('/');
    let start = 1 + usize::from(closing);
    let name_len = s[start..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .unwrap_or(s.len() - start);
    let written = &s[start..start + name_len];
    let name = *ELEMENTS.iter().find(|e| e.eq_ignore_ascii_case(written))?;
    let after = &s[start + name_len..];
    if !after.starts_with(|c: char| c == '>' || c == '/' || c.is_whitespace()) {
        return None;
    }
    let end = after
        .find(['>', '<'])
        .filter(|&e| after.as_bytes()[e] == b'>')?;
    let len = start + name_len + end + 1;
    if !closing && (name == "script" || name == "style") {
        // The closing tag, its name in any case, found in place (no
        // lower-cased copy of the rest of the text per such element).
        let body = s.as_bytes()[len..]
            .windows(2 + name.len())
            .position(|w| w.starts_with(b"</") && w[2..].eq_ignore_ascii_case(name.as_bytes()))?;
        let rest = &s[len + body..];
        return rest.find('>').map(|e| (len + body + e + 1, false));
    }
    Some((len, INLINE.contains(&name)))
}

/// The character the entity `s` opens with stands for, and its length.
fn entity(s: &str) -> Option<(char, usize)> {
    let semi = s.as_bytes().iter().take(12).position(|&b| b == b';')?;
    let body = &s[1..semi];
    let c = if let Some(num) = body.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        match code {
            0 => return None,
            0x80..=0x9f => windows_1252(code as u8),
            _ => char::from_u32(code)?,
        }
    } else if let Some(k) = LATIN1.iter().position(|&n| n == body) {
        if body == "nbsp" {
            ' '
        } else {
            char::from_u32(0xa0 + k as u32)?
        }
    } else {
        OTHER.iter().find(|(n, _)| *n == body)?.1
    };
    Some((c, semi + 1))
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn shop_html_reads_as_text() {
        let html = "<p><span style=\"font-weight: 400;\">Soft <b>cotton</b> tee</span></p>\n<ul>\n<li>Machine&nbsp;wash</li><li>Size M &ndash; L</li></ul><!-- generated -->";
        assert_eq!(
            plain(html),
            "Soft cotton tee Machine wash Size M \u{2013} L"
        );
        // Word's paragraphs, a style sheet and a script: gone with their content.
        let word = "<p class=MsoNormal>Gift set<o:p></o:p></p><style>p {color: red}</style><SCRIPT>x = 1 < 2;</SCRIPT>";
        assert_eq!(plain(word), "Gift set");
        // Self-closing and upper-case tags.
        assert_eq!(
            plain("Line one<BR/>line two<br />three"),
            "Line one line two three"
        );
        // Inline elements join what they hold to what is around them, as a browser shows it.
        assert_eq!(
            plain("<b>Big</b>Sale: <i>50</i>%<p>off</p>"),
            "BigSale: 50% off"
        );
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            plain("Barnes &amp; Noble"),
            "Barnes & Noble",
            "Book-Crossing's publishers"
        );
        assert_eq!(plain("Cr&egrave;me br&ucirc;l&eacute;e"), "Crème brûlée");
        assert_eq!(
            plain("&#9733;&#9733; Best &#153;"),
            "★★ Best ™",
            "128–159 as Windows-1252"
        );
        assert_eq!(plain("&#x41;&#X42;&#67;"), "ABC");
        assert_eq!(
            plain("&lt;b&gt; is a tag"),
            "<b> is a tag",
            "decoded once, not read as a tag"
        );
    }

    #[test]
    fn text_that_is_not_markup_stays_as_written() {
        for s in [
            "Tom & Jerry",
            "AT&T phone",
            "Love <3 mugs",
            "size < 5 and > 2",
            "The <Author> edition",
            "&unknown; &#0; &#xZZ; &amp",
            "<p unterminated",
            "a  double  space",
        ] {
            assert!(matches!(plain(s), std::borrow::Cow::Borrowed(_)), "{s}");
        }
        // Only text that changed has its white space folded.
        assert_eq!(plain("a  b &amp;  c"), "a b & c");
    }
}
