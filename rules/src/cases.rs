//! The address case table (`rules/url_cases.txt`), parsed: the unit tests of
//! this crate, the CLI and the launcher each run their own rule against it.

/// One line of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case<'a> {
    Web {
        url: &'a str,
        secure: bool,
    },
    Join {
        base: &'a str,
        location: &'a str,
        result: &'a str,
    },
    Host {
        url: &'a str,
        host: &'a str,
    },
}

/// The table's text.
pub const TABLE: &str = include_str!("../url_cases.txt");

/// Every case of the table.
pub fn all() -> Vec<Case<'static>> {
    let field = |f: &'static str| if f == "<empty>" { "" } else { f };
    TABLE
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let f: Vec<&str> = line.split(' ').map(field).collect();
            match f[..] {
                ["web", verdict, url] => Case::Web {
                    url,
                    secure: verdict == "yes",
                },
                ["join", base, location, result] => Case::Join {
                    base,
                    location,
                    result,
                },
                ["host", url, host] => Case::Host { url, host },
                _ => panic!("a line of url_cases.txt has no known shape: {line:?}"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Case;
    use crate::url;

    #[test]
    fn the_rules_answer_the_table() {
        let cases = super::all();
        assert!(cases.len() > 30);
        for case in cases {
            match case {
                Case::Web { url: u, secure } => assert_eq!(url::is_secure_web(u), secure, "{u}"),
                Case::Join {
                    base,
                    location,
                    result,
                } => assert_eq!(url::join(base, location), result, "{base} + {location}"),
                Case::Host { url: u, host } => assert_eq!(url::host_of(u), host, "{u}"),
            }
        }
    }
}
