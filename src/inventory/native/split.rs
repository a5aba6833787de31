//! Reading a large native JSON inventory's `vms` array on two threads.
//!
//! serde_json reads one value after another, so one thread parses the whole file. Here the
//! top level is walked with serde_json one member at a time, and the VMs are parsed one
//! element at a time, so that the second half of the array can be parsed meanwhile on
//! another thread. Where that half starts is a guess (a `{` after `},` near the middle), and
//! the guess is checked, not trusted: the first thread parses from the real start of the
//! array and must arrive exactly at the guessed place between two elements. If it does not
//! (the guess lay inside a string, say), the second thread's work is dropped and the first
//! goes on alone. So the VMs read are always those serde_json reads from the array's start.
//!
//! Anything unusual (invalid JSON, no `vms` member, a member twice, text after the end)
//! returns `None`, and the caller parses the file the ordinary way, which also explains the
//! error. Every value is still read by serde_json; only the punctuation between members and
//! elements (`{ } [ ] , :` and JSON whitespace) is read here.
//!
//! One difference is known: each VM is parsed as a document of its own, so serde_json's
//! nesting limit (128) counts from the VM, not from the file; a VM nested 127 levels deep
//! in an unknown member is read here where the ordinary parse refuses it.

use super::{RawInventory, RawVm};
use crate::model::Vm;
use serde_json::value::RawValue;

/// Files smaller than this are parsed on one thread: a second would not pay for itself.
const MIN_BYTES: usize = 1 << 20;

/// Parses `text` as `serde_json::from_str::<RawInventory>` does, or returns `None`.
pub(super) fn parse(text: &str) -> Option<RawInventory> {
    if text.len() < MIN_BYTES {
        return None;
    }
    parse_any(text)
}

fn parse_any(text: &str) -> Option<RawInventory> {
    let mut at = skip_ws(text, 0);
    at = expect(text, at, b'{')?;
    // The members other than `vms`, as written, to be read by serde afterwards.
    let mut rest: Vec<(String, &RawValue)> = Vec::new();
    let mut vms: Option<Vec<Vm>> = None;
    loop {
        at = skip_ws(text, at);
        if rest.is_empty() && vms.is_none() && text.as_bytes().get(at) == Some(&b'}') {
            at += 1;
            break;
        }
        let (key, end) = one::<String>(text, at)?;
        at = expect(text, skip_ws(text, end), b':')?;
        at = skip_ws(text, at);
        if key == "vms" {
            if vms.is_some() {
                return None;
            }
            let (read, end) = array(text, at)?;
            vms = Some(read);
            at = end;
        } else {
            let (raw, end) = one::<&RawValue>(text, at)?;
            rest.push((key, raw));
            at = end;
        }
        at = skip_ws(text, at);
        match text.as_bytes().get(at)? {
            b',' => at += 1,
            b'}' => {
                at += 1;
                break;
            }
            _ => return None,
        }
    }
    if skip_ws(text, at) != text.len() {
        return None;
    }
    let vms = vms?;
    // The other members (hosts, collected_at, platform, ...) are small: read them as one
    // object, so that serde applies its own rules (defaults, duplicate fields).
    let mut object = String::from("{");
    for (i, (key, raw)) in rest.iter().enumerate() {
        if i > 0 {
            object.push(',');
        }
        object.push_str(&serde_json::to_string(key).ok()?);
        object.push(':');
        object.push_str(raw.get());
    }
    object.push('}');
    let mut inventory: RawInventory = serde_json::from_str(&object).ok()?;
    inventory.vms = vms;
    Some(inventory)
}

/// Reads the array whose `[` is at `at`: its VMs, and the position after its `]`.
fn array(text: &str, at: usize) -> Option<(Vec<Vm>, usize)> {
    let start = skip_ws(text, expect(text, at, b'[')?);
    if text.as_bytes().get(start) == Some(&b']') {
        return Some((Vec::new(), start + 1));
    }
    let Some(guess) = second_half(text, start) else {
        return match elements(text, start, None)? {
            (vms, Stop::End(end)) => Some((vms, end)),
            (_, Stop::Reached) => None,
        };
    };
    std::thread::scope(|s| {
        let second = s.spawn(|| elements(text, guess, None));
        let first = elements(text, start, Some(guess));
        // Joined before anything returns, so that the scope never re-raises a panic.
        let second = second.join().ok().flatten();
        let (mut vms, stop) = first?;
        match stop {
            // The first half ended exactly where the second began: the guess was right.
            Stop::Reached => match second? {
                (more, Stop::End(end)) => {
                    vms.extend(more);
                    Some((vms, end))
                }
                (_, Stop::Reached) => None,
            },
            // The array ended before the guess (which lay after it): the first half is all.
            Stop::End(end) => Some((vms, end)),
        }
    })
}

/// Where `elements` stopped.
enum Stop {
    /// At the position it was told to stop at, the start of an element.
    Reached,
    /// After the array's `]`, at this position.
    End(usize),
}

/// Parses the array elements from `at` (the start of an element) on, until the array ends
/// or until the next element would start at `stop`. Passing `stop` without stopping there
/// (it was not the start of an element) just goes on to the end.
fn elements(text: &str, mut at: usize, stop: Option<usize>) -> Option<(Vec<Vm>, Stop)> {
    let mut vms = Vec::new();
    loop {
        let (vm, end) = one::<RawVm>(text, at)?;
        vms.push(vm.into_model());
        at = skip_ws(text, end);
        match text.as_bytes().get(at)? {
            b',' => at = skip_ws(text, at + 1),
            b']' => return Some((vms, Stop::End(at + 1))),
            _ => return None,
        }
        if stop == Some(at) {
            return Some((vms, Stop::Reached));
        }
    }
}

/// A guess at where an element near the middle of the array starting at `start` begins:
/// a `{` whose preceding non-blank characters are `}` and `,`.
fn second_half(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let from = start + (bytes.len() - start) / 2;
    let mut at = from;
    // Elements are a few hundred bytes; a guess further than this is not worth it.
    let limit = (from + (1 << 16)).min(bytes.len());
    while at < limit {
        let open = at + bytes[at..limit].iter().position(|&b| b == b'{')?;
        let before = bytes[start..open].iter().rev().position(|b| !is_ws(*b));
        let comma = before.map(|n| open - 1 - n);
        if let Some(comma) = comma.filter(|&c| bytes[c] == b',') {
            let after = bytes[start..comma].iter().rev().position(|b| !is_ws(*b));
            if after.is_some_and(|n| bytes[comma - 1 - n] == b'}') {
                return Some(open);
            }
        }
        at = open + 1;
    }
    None
}

/// Parses one JSON value of type `T` starting at `at`: the value and the position after it.
fn one<'a, T: serde::Deserialize<'a>>(text: &'a str, at: usize) -> Option<(T, usize)> {
    let rest = text.get(at..)?;
    let mut values = serde_json::Deserializer::from_str(rest).into_iter::<T>();
    let value = values.next()?.ok()?;
    Some((value, at + values.byte_offset()))
}

fn expect(text: &str, at: usize, byte: u8) -> Option<usize> {
    (text.as_bytes().get(at) == Some(&byte)).then_some(at + 1)
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_ws(text: &str, at: usize) -> usize {
    let bytes = text.as_bytes();
    at + bytes
        .get(at..)
        .map_or(0, |rest| rest.iter().take_while(|b| is_ws(**b)).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same inventory, read the ordinary way and here, whatever its size.
    fn both_ways(text: &str) -> (Option<Vec<Vm>>, Option<Vec<Vm>>) {
        let ordinary = serde_json::from_str::<RawInventory>(text)
            .ok()
            .map(|r| r.vms);
        (ordinary, parse_any(text).map(|r| r.vms))
    }

    fn vms(n: usize, name: impl Fn(usize) -> String) -> String {
        let items: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"name":{},"host":"h{}","state":"running","memory_mb":{}}}"#,
                    serde_json::to_string(&name(i)).unwrap(),
                    i % 3,
                    i + 1
                )
            })
            .collect();
        items.join(",\n ")
    }

    #[test]
    fn reads_what_serde_reads_whatever_the_middle_looks_like() {
        // Names that look like the place between two elements, around the middle.
        let tricky = |i: usize| {
            if i.is_multiple_of(2) {
                format!("vm{i} }}, {{\"name\": \"x\"")
            } else {
                format!("vm{i}")
            }
        };
        for n in [1, 2, 3, 10, 101] {
            let text = format!(
                r#"{{"collected_at":"2026-11-25T16:00:00Z","hosts":[{{"name":"h0"}}],"vms":[{}],"extra":{{"vms":1}}}}"#,
                vms(n, tricky)
            );
            let (ordinary, split) = both_ways(&text);
            assert!(ordinary.is_some());
            assert_eq!(split, ordinary, "{n} VMs");
        }
    }

    #[test]
    fn the_second_half_is_used_when_the_guess_is_right() {
        let text = format!(r#"{{"vms":[{}]}}"#, vms(1000, |i| format!("vm{i}")));
        let start = text.find('[').unwrap() + 1;
        assert!(second_half(&text, start).is_some());
        let (ordinary, split) = both_ways(&text);
        assert_eq!(split.as_ref().map(Vec::len), Some(1000));
        assert_eq!(split, ordinary);
    }

    #[test]
    fn unusual_files_are_left_to_the_ordinary_parse() {
        for text in [
            r#"{"vms":[],"vms":[]}"#,
            r#"{"vms":[{"name":"a","host":"h","state":"off"},]}"#,
            r#"{"vms":[{"name":"a","host":"h","state":"off"}]} x"#,
            r#"{"hosts":[]}"#,
            r#"{"vms":[{"name":"","host":"h","state":"off"}]}"#,
            r#"{"platform":"nope","vms":[]}"#,
            r#"{"hosts":1,"hosts":2,"vms":[]}"#,
            r#"["vms"]"#,
        ] {
            assert!(parse_any(text).is_none(), "{text}");
        }
        let (ordinary, split) = both_ways(r#" { "v\u006ds" : [ ] , "hosts" : [ ] } "#);
        assert_eq!(split, ordinary);
        assert_eq!(split, Some(Vec::new()));
        assert!(parse("{\"vms\":[]}").is_none(), "small files are not split");
    }

    proptest::proptest! {
        /// Whatever the whitespace, member order and names (including ones that look like
        /// the gap between two elements), the two ways read the same VMs, and this way reads
        /// nothing that the ordinary way refuses.
        #[test]
        fn agrees_with_serde(
            names in proptest::collection::vec(proptest::sample::select(vec![
                "a", "}, {", "},{\"name\":\"b\",\"host\":\"h\",\"state\":\"off\"},{",
                "\\\"}\\", "\\u007d,\\u007b", "é", "",
            ]), 0..40),
            gaps in proptest::collection::vec(proptest::sample::select(vec!["", " ", "\n", "\r\n\t"]), 8),
            vms_first in proptest::bool::ANY,
            broken in proptest::option::of(0usize..400),
        ) {
            let g = |i: usize| gaps[i % gaps.len()];
            let items: Vec<String> = names.iter().enumerate().map(|(i, n)| {
                format!(
                    "{{{a}\"name\"{b}:{c}\"{n}{i}\",\"host\":\"h\"{d},{e}\"state\":\"off\"{f}}}",
                    a = g(i), b = g(i + 1), c = g(i + 2), d = g(i + 3), e = g(i + 4), f = g(i + 5),
                )
            }).collect();
            let vms = format!("\"vms\"{}:{}[{}{}]", g(0), g(1), g(2), items.join(&format!("{},{}", g(3), g(4))));
            let hosts = format!("\"hosts\":[{}{{\"name\":\"h\"}}]", g(5));
            let mut text = if vms_first {
                format!("{}{{{vms},{}{hosts}}}{}", g(6), g(7), g(1))
            } else {
                format!("{{{hosts},{vms}{}}}", g(7))
            };
            if let Some(at) = broken {
                // Damage one byte: both ways must still agree on whether it reads.
                let at = at % text.len();
                if text.is_char_boundary(at) && text.is_char_boundary(at + 1) {
                    text.replace_range(at..at + 1, "}");
                }
            }
            let (ordinary, split) = both_ways(&text);
            if ordinary.is_none() {
                proptest::prop_assert!(split.is_none(), "read what serde refuses: {}", text);
            } else if split.is_some() {
                proptest::prop_assert_eq!(split, ordinary);
            } else {
                proptest::prop_assert!(broken.is_some(), "gave up on a good file: {}", text);
            }
        }
    }
}
