//! The font charts are drawn with, found once per process on this machine (through
//! healthplan-office) and registered with plotters. Without a CJK font the charts use a
//! Latin font and English labels; without any font they are drawn without text.

use std::sync::OnceLock;

/// What the charts can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// Chinese labels.
    Cjk,
    /// No CJK font: English labels.
    Latin,
    /// No font at all: shapes only.
    None,
}

/// The plotters family name the found font is registered under.
pub const FAMILY: &str = "healthplan-chart";

static SCRIPT: OnceLock<Script> = OnceLock::new();

/// The script charts can use; finds and registers the font on first call.
pub fn script() -> Script {
    *SCRIPT.get_or_init(|| {
        if let Some(f) = healthplan_office::cjk_font() {
            if register(f.bytes, f.index) {
                return Script::Cjk;
            }
        }
        if let Some(f) = healthplan_office::latin_font() {
            if register(f.bytes, f.index) {
                return Script::Latin;
            }
        }
        Script::None
    })
}

/// plotters reads face 0 of a font and keeps it for the life of the process (`'static`),
/// so the bytes are leaked once, with a collection's header pointing face 0 at the chosen
/// face.
fn register(mut bytes: Vec<u8>, index: u32) -> bool {
    if index > 0 && !make_face_first(&mut bytes, index) {
        return false;
    }
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font(FAMILY, plotters::style::FontStyle::Normal, bytes).is_ok()
}

/// In a TrueType collection (`ttcf`, u32 count at 8, u32 offsets from 12) swaps the offsets
/// of face 0 and face `index`; the faces' tables use absolute offsets, so both stay valid.
fn make_face_first(bytes: &mut [u8], index: u32) -> bool {
    if bytes.get(0..4) != Some(b"ttcf") {
        return false;
    }
    let Some(count) = bytes
        .get(8..12)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
    else {
        return false;
    };
    if index >= count {
        return false;
    }
    let at = |i: u32| 12 + 4 * i as usize;
    let (a, b) = (at(0), at(index));
    if bytes.len() < b + 4 {
        return false;
    }
    for k in 0..4 {
        bytes.swap(a + k, b + k);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_faces_swap_in_place() {
        let mut ttc = b"ttcf\0\x02\0\0\0\0\0\x02AAAABBBB".to_vec();
        assert!(make_face_first(&mut ttc, 1));
        assert_eq!(&ttc[12..], b"BBBBAAAA");
        assert!(!make_face_first(&mut ttc, 2), "index past the count");
        assert!(
            !make_face_first(&mut b"OTTO....".to_vec(), 1),
            "not a collection"
        );
        assert!(!make_face_first(
            &mut b"ttcf\0\x02\0\0\0\0\0\x09AAAA".to_vec(),
            5
        ));
    }
}
