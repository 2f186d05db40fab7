//! Wildcard patterns as IAM applies them: `*` matches any run of characters (including `/` and
//! `:`), `?` exactly one character. Compiled once; the common shapes (exact, prefix, suffix, match
//! everything) skip the general matcher, which is what keeps action matching cheap.

/// One piece of a general pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(Box<str>),
    Star,
    One,
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Glob {
    Any,
    Exact(Box<str>),
    Prefix(Box<str>),
    Suffix(Box<str>),
    General(Box<[Tok]>),
}

impl Glob {
    /// Compiles pattern text in which `*` and `?` are wildcards.
    pub(crate) fn new(pattern: &str) -> Glob {
        Glob::from_toks(tokenize(pattern))
    }

    /// Compiles an already tokenized pattern (used for patterns built from policy variables,
    /// where substituted text is literal).
    pub(crate) fn from_toks(mut toks: Vec<Tok>) -> Glob {
        merge_adjacent(&mut toks);
        match toks.as_slice() {
            [] => Glob::Exact("".into()),
            [Tok::Star] => Glob::Any,
            [Tok::Lit(s)] => Glob::Exact(s.clone()),
            [Tok::Lit(s), Tok::Star] => Glob::Prefix(s.clone()),
            [Tok::Star, Tok::Lit(s)] => Glob::Suffix(s.clone()),
            _ => Glob::General(toks.into_boxed_slice()),
        }
    }

    pub(crate) fn is_match(&self, text: &str) -> bool {
        match self {
            Glob::Any => true,
            Glob::Exact(s) => text == &**s,
            Glob::Prefix(p) => text.starts_with(&**p),
            Glob::Suffix(p) => text.ends_with(&**p),
            Glob::General(toks) => match_toks(toks, text),
        }
    }
}

/// Splits pattern text into literal runs and wildcards.
pub(crate) fn tokenize(pattern: &str) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut lit = String::new();
    for c in pattern.chars() {
        match c {
            '*' | '?' => {
                if !lit.is_empty() {
                    toks.push(Tok::Lit(std::mem::take(&mut lit).into()));
                }
                toks.push(if c == '*' { Tok::Star } else { Tok::One });
            }
            _ => lit.push(c),
        }
    }
    if !lit.is_empty() {
        toks.push(Tok::Lit(lit.into()));
    }
    toks
}

/// Joins neighbouring literals and collapses runs of `*` (`**` matches what `*` matches).
fn merge_adjacent(toks: &mut Vec<Tok>) {
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    for t in toks.drain(..) {
        match (out.last_mut(), t) {
            (Some(Tok::Star), Tok::Star) => {}
            (Some(Tok::Lit(a)), Tok::Lit(b)) => {
                let mut s = String::with_capacity(a.len() + b.len());
                s.push_str(a);
                s.push_str(&b);
                *a = s.into();
            }
            (_, t) => out.push(t),
        }
    }
    *toks = out;
}

fn char_len_at(text: &str, pos: usize) -> usize {
    text[pos..].chars().next().map_or(1, char::len_utf8)
}

/// After a `*`, the next literal can only start where it occurs: jump there with a substring
/// search instead of trying every position. `None` means it occurs nowhere ahead.
fn skip_to_literal(toks: &[Tok], ti: usize, text: &str, pos: usize) -> Option<usize> {
    match toks.get(ti) {
        Some(Tok::Lit(s)) => find_from(text, pos, s),
        _ => Some(pos),
    }
}

/// `text[pos..].find(lit)`, without the searcher set-up that `str::find` pays on every call
/// (it dominated action matching in profiles: texts here are short). A match found bytewise
/// starts on a character boundary, since `lit` starts with a UTF-8 lead byte.
fn find_from(text: &str, pos: usize, lit: &str) -> Option<usize> {
    let (hay, needle) = (&text.as_bytes()[pos..], lit.as_bytes());
    let (&first, _) = needle.split_first()?;
    let last_start = hay.len().checked_sub(needle.len())?;
    let mut i = 0;
    while i <= last_start {
        i += hay[i..=last_start].iter().position(|&b| b == first)?;
        if hay[i..].starts_with(needle) {
            return Some(pos + i);
        }
        i += 1;
    }
    None
}

/// Greedy matching with one backtrack point (the last `*`), linear in practice. A literal run is a
/// sequence of one-character literals matched at once, so the classic single-star argument holds;
/// if the literal after the last `*` occurs nowhere ahead, stretching that `*` (or, by the same
/// argument, an earlier one) cannot help, so the match fails at once.
fn match_toks(toks: &[Tok], text: &str) -> bool {
    let (mut ti, mut pos) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if ti < toks.len() {
            match &toks[ti] {
                Tok::Star => {
                    ti += 1;
                    let Some(p) = skip_to_literal(toks, ti, text, pos) else {
                        return false;
                    };
                    pos = p;
                    star = Some((ti, pos));
                    continue;
                }
                Tok::One if pos < text.len() => {
                    pos += char_len_at(text, pos);
                    ti += 1;
                    continue;
                }
                Tok::Lit(s) if text[pos..].starts_with(&**s) => {
                    pos += s.len();
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        } else if pos == text.len() {
            return true;
        }
        match star {
            Some((t, p)) if p < text.len() => {
                let Some(np) = skip_to_literal(toks, t, text, p + char_len_at(text, p)) else {
                    return false;
                };
                star = Some((t, np));
                ti = t;
                pos = np;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        Glob::new(p).is_match(t)
    }

    #[test]
    fn shapes() {
        assert!(matches!(Glob::new("*"), Glob::Any));
        assert!(matches!(Glob::new("**"), Glob::Any));
        assert!(matches!(Glob::new("iam:get*"), Glob::Prefix(_)));
        assert!(matches!(Glob::new("*key"), Glob::Suffix(_)));
        assert!(matches!(Glob::new("a?c"), Glob::General(_)));
        // Text without a wildcard, and the empty pattern, are compared as they are.
        assert_eq!(Glob::new("iam:getuser"), Glob::Exact("iam:getuser".into()));
        assert_eq!(Glob::new(""), Glob::Exact("".into()));
    }

    #[test]
    fn wildcards() {
        assert!(m("iam:*accesskey*", "iam:listaccesskeys"));
        assert!(!m("iam:*accesskey*", "iam:listusers"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("a?c", "aéc"));
        assert!(m("", ""));
        assert!(!m("", "x"));
        assert!(m("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!m("*a*b*c*", "xxaxxcxxbxx"));
        assert!(m("a*a*a", "aaaaa"));
        assert!(!m("a*a*ab", "aaaaa"));
    }

    /// The matcher against a plain recursive definition of `*` and `?`, on small alphabets where
    /// backtracking matters.
    #[test]
    fn agrees_with_the_definition() {
        fn reference(p: &[char], t: &[char]) -> bool {
            match p.split_first() {
                None => t.is_empty(),
                Some(('*', rest)) => (0..=t.len()).any(|i| reference(rest, &t[i..])),
                Some(('?', rest)) => !t.is_empty() && reference(rest, &t[1..]),
                Some((c, rest)) => t.first() == Some(c) && reference(rest, &t[1..]),
            }
        }
        let alphabet = ['a', 'b', '*', '?'];
        let mut patterns = vec![String::new()];
        for _ in 0..4 {
            let next: Vec<String> = patterns
                .iter()
                .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
                .collect();
            patterns.extend(next);
        }
        patterns.sort();
        patterns.dedup();
        let texts = [
            "", "a", "b", "ab", "ba", "aab", "abab", "bbba", "aabba", "ababab",
        ];
        for p in &patterns {
            let pc: Vec<char> = p.chars().collect();
            for t in texts {
                let tc: Vec<char> = t.chars().collect();
                assert_eq!(m(p, t), reference(&pc, &tc), "pattern {p:?} text {t:?}");
            }
        }
    }

    #[test]
    fn documented_s3_examples() {
        // reference_policies_elements_resource.html
        let p = "arn:aws:s3:::bucket/*/test/*";
        assert!(m(p, "arn:aws:s3:::bucket/1/2/test/3/object.jpg"));
        assert!(m(p, "arn:aws:s3:::bucket//test/object.jpg"));
        assert!(!m(p, "arn:aws:s3:::bucket/test/object.jpg"));
        assert!(!m(p, "arn:aws:s3:::bucket/1/2/test.jpg"));
    }
}
