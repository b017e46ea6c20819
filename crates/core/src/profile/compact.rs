//! The profile as the browser stores it: a compact text form written and read without serde,
//! so the wasm build carries no JSON machinery (it is a fraction of the size).
//!
//! One field per line, in a fixed order, after the header `tailor-profile 1`. Numbers are
//! decimal, except floats, which are the hex of their IEEE bits (exact). Lists separate
//! entries with `;` and the parts of an entry with `,`. Strings escape `%`, `,`, `;` and
//! newlines as `%25`, `%2C`, `%3B`, `%0A`. An unreadable profile is an error (the caller starts
//! a fresh one: the profile is a cache of the device's own history, never a source of truth),
//! and a readable one is sanitized like any stored profile.

use super::{Affinity, Profile, Purchase, SessionState, PROFILE_VERSION};

const HEADER: &str = "tailor-profile";

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            ',' => out.push_str("%2C"),
            ';' => out.push_str("%3B"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

fn unesc(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('%') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let code = rest.get(at + 1..at + 3).ok_or("bad escape")?;
        out.push(match code {
            "25" => '%',
            "2C" => ',',
            "3B" => ';',
            "0A" => '\n',
            _ => return Err(format!("bad escape %{code}")),
        });
        rest = rest.get(at + 3..).unwrap_or_default();
    }
    out.push_str(rest);
    Ok(out)
}

fn num<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
    s.parse()
        .map_err(|_| format!("{what}: `{s}` is not a number"))
}

// Floats are stored as the hex of their bits: exact, and no float formatting or parsing code
// in the wasm build.
fn f32_text(x: f32) -> String {
    format!("{:x}", x.to_bits())
}

fn f64_text(x: f64) -> String {
    format!("{:x}", x.to_bits())
}

fn read_f32(s: &str, what: &str) -> Result<f32, String> {
    u32::from_str_radix(s, 16)
        .map(f32::from_bits)
        .map_err(|_| format!("{what}: `{s}` is not a number"))
}

fn read_f64(s: &str, what: &str) -> Result<f64, String> {
    u64::from_str_radix(s, 16)
        .map(f64::from_bits)
        .map_err(|_| format!("{what}: `{s}` is not a number"))
}

/// `parts` joined by `sep` (one small loop instead of the standard library's generic join,
/// which the browser engine would carry in two copies).
fn join(parts: Vec<String>, sep: char) -> String {
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        out.push_str(p);
    }
    out
}

fn entries(line: &str) -> impl Iterator<Item = Vec<&str>> {
    line.split(';')
        .filter(|e| !e.is_empty())
        .map(|e| e.split(',').collect())
}

fn affinities(list: &[Affinity]) -> String {
    let list = list
        .iter()
        .map(|a| format!("{},{},{}", esc(&a.key), f32_text(a.score), a.at))
        .collect::<Vec<_>>();
    join(list, ';')
}

fn read_affinities(line: &str) -> Result<Vec<Affinity>, String> {
    entries(line)
        .map(|p| match p.as_slice() {
            [k, s, at] => Ok(Affinity {
                key: unesc(k)?,
                score: read_f32(s, "affinity score")?,
                at: num(at, "affinity time")?,
            }),
            _ => Err("an affinity needs key, score and time".to_owned()),
        })
        .collect()
}

fn pairs<A: std::fmt::Display, B: std::fmt::Display>(list: &[(A, B)]) -> String {
    join(list.iter().map(|(a, b)| format!("{a},{b}")).collect(), ';')
}

fn read_pairs<A: std::str::FromStr, B: std::str::FromStr>(
    line: &str,
    what: &str,
) -> Result<Vec<(A, B)>, String> {
    entries(line)
        .map(|p| match p.as_slice() {
            [a, b] => Ok((num(a, what)?, num(b, what)?)),
            _ => Err(format!("{what}: expected two parts")),
        })
        .collect()
}

fn ids(list: &[u64], sep: char) -> String {
    join(list.iter().map(u64::to_string).collect(), sep)
}

fn read_ids(s: &str) -> Result<Vec<u64>, String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(|x| num(x, "item id"))
        .collect()
}

impl Profile {
    /// The compact stored form (see the module documentation).
    pub fn encode_compact(&self) -> String {
        let s = &self.session;
        let purchases = self
            .purchases
            .iter()
            .map(|p| {
                format!(
                    "{},{},{},{}",
                    p.ts,
                    f64_text(p.value),
                    esc(p.order.as_deref().unwrap_or("")),
                    ids(&p.items, ' ')
                )
            })
            .collect::<Vec<_>>();
        let purchases = join(purchases, ';');
        join(
            vec![
                format!("{HEADER} {PROFILE_VERSION}"),
                format!(
                    "{},{},{},{},{},{},{}",
                    self.first_seen,
                    self.last_seen,
                    self.sessions,
                    self.page_views,
                    self.product_views,
                    self.orders,
                    f64_text(self.spend)
                ),
                format!("{},{},{}", esc(&s.id), s.started, s.last),
                ids(&s.items, ','),
                affinities(&self.categories),
                affinities(&self.vendors),
                affinities(&self.price_bands),
                pairs(&self.recent),
                pairs(&self.cart),
                purchases,
            ],
            '\n',
        )
    }

    /// Read the compact form; sanitized like any stored profile.
    pub fn decode_compact(text: &str) -> Result<Profile, String> {
        let lines: Vec<&str> = text.split('\n').collect();
        let head = lines.first().copied().unwrap_or("");
        let version = head
            .strip_prefix(HEADER)
            .map(str::trim)
            .ok_or("stored profile is unreadable: no header")?;
        if version != PROFILE_VERSION.to_string() {
            return Err(format!(
                "stored profile has version {version}, this build reads {PROFILE_VERSION}"
            ));
        }
        if lines.len() != 10 {
            return Err(format!(
                "stored profile is unreadable: {} lines, expected 10",
                lines.len()
            ));
        }
        let counts: Vec<&str> = lines[1].split(',').collect();
        let [first, last, sessions, pages, views, orders, spend] = counts.as_slice() else {
            return Err("stored profile is unreadable: bad counters".to_owned());
        };
        let session: Vec<&str> = lines[2].split(',').collect();
        let [sid, started, slast] = session.as_slice() else {
            return Err("stored profile is unreadable: bad session".to_owned());
        };
        let purchases = entries(lines[9])
            .map(|p| match p.as_slice() {
                [ts, value, order, items] => Ok(Purchase {
                    ts: num(ts, "purchase time")?,
                    value: read_f64(value, "purchase value")?,
                    order: Some(unesc(order)?).filter(|o| !o.is_empty()),
                    items: items
                        .split(' ')
                        .filter(|x| !x.is_empty())
                        .map(|x| num(x, "item id"))
                        .collect::<Result<_, _>>()?,
                }),
                _ => Err("a purchase needs time, value, order and items".to_owned()),
            })
            .collect::<Result<Vec<_>, String>>();
        let build = || -> Result<Profile, String> {
            Ok(Profile {
                v: PROFILE_VERSION,
                first_seen: num(first, "first seen")?,
                last_seen: num(last, "last seen")?,
                sessions: num(sessions, "sessions")?,
                page_views: num(pages, "page views")?,
                product_views: num(views, "product views")?,
                orders: num(orders, "orders")?,
                spend: read_f64(spend, "spend")?,
                session: SessionState {
                    id: unesc(sid)?,
                    started: num(started, "session start")?,
                    last: num(slast, "session last")?,
                    items: read_ids(lines[3])?,
                },
                categories: read_affinities(lines[4])?,
                vendors: read_affinities(lines[5])?,
                price_bands: read_affinities(lines[6])?,
                recent: read_pairs(lines[7], "recent")?,
                cart: read_pairs(lines[8], "cart")?,
                purchases: purchases?,
            })
        };
        let mut p = build().map_err(|e| format!("stored profile is unreadable: {e}"))?;
        p.sanitize();
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Profile {
        Profile {
            first_seen: 1_700_000_000_000,
            last_seen: 1_700_000_100_000,
            sessions: 3,
            page_views: 9,
            product_views: 5,
            orders: 1,
            spend: 42.5,
            session: SessionState {
                id: "s,1;x%".into(),
                started: 1_700_000_090_000,
                last: 1_700_000_100_000,
                items: vec![7, 8],
            },
            categories: vec![Affinity {
                key: "Home, garden;\nand more %".into(),
                score: 2.25,
                at: 1_700_000_100_000,
            }],
            vendors: vec![],
            price_bands: vec![Affinity {
                key: "2".into(),
                score: 1.0,
                at: 5,
            }],
            recent: vec![(8, 1_700_000_100_000), (7, 1_700_000_090_000)],
            cart: vec![(7, 2)],
            purchases: vec![Purchase {
                ts: 1_700_000_050_000,
                value: 42.5,
                items: vec![7, 9],
                order: Some("#1001".into()),
            }],
            ..Profile::default()
        }
    }

    #[test]
    fn round_trips_every_field_with_awkward_strings() {
        let p = sample();
        let text = p.encode_compact();
        assert!(text.starts_with("tailor-profile 1\n"));
        assert_eq!(Profile::decode_compact(&text).unwrap(), p);
        let empty = Profile::default();
        assert_eq!(
            Profile::decode_compact(&empty.encode_compact()).unwrap(),
            empty
        );
    }

    #[test]
    fn bad_input_is_a_precise_error_never_a_panic() {
        let good = sample().encode_compact();
        assert!(Profile::decode_compact("")
            .unwrap_err()
            .contains("no header"));
        assert!(Profile::decode_compact("tailor-profile 9\n")
            .unwrap_err()
            .contains("version 9"));
        let broken = good.replacen(&format!("{:x}", 42.5f64.to_bits()), "forty", 1);
        assert!(Profile::decode_compact(&broken)
            .unwrap_err()
            .contains("spend"));
        // Every truncation and every single-byte change is either read or refused cleanly.
        for cut in 0..good.len() {
            if good.is_char_boundary(cut) {
                let _ = Profile::decode_compact(&good[..cut]);
            }
        }
        let bytes = good.as_bytes();
        for i in 0..bytes.len() {
            for b in [b'%', b',', b';', b'\n', b'-', b'9', b'x'] {
                let mut v = bytes.to_vec();
                v[i] = b;
                if let Ok(t) = std::str::from_utf8(&v) {
                    let _ = Profile::decode_compact(t);
                }
            }
        }
    }

    #[test]
    fn a_stored_profile_is_sanitized() {
        let mut p = sample();
        p.categories[0].score = -5.0;
        let back = Profile::decode_compact(&p.encode_compact()).unwrap();
        assert!(back.categories.is_empty(), "negative scores are dropped");
    }
}
