//! Fonts installed on this machine, for charts drawn in Rust (no font is embedded in the
//! binary). A font is found by file name among the usual font directories, read, and checked
//! to have glyphs for the text it must draw; in a collection (.ttc) the face is chosen by
//! family name.

use std::path::{Path, PathBuf};

/// One face of a font file on this machine.
#[derive(Clone)]
pub struct SystemFont {
    pub path: PathBuf,
    /// The face's family name, e.g. `Noto Sans CJK SC`.
    pub family: String,
    /// The face's index in a collection (0 for a plain .ttf/.otf).
    pub index: u32,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for SystemFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemFont")
            .field("path", &self.path)
            .field("family", &self.family)
            .field("index", &self.index)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// Set to a font file to use it before any other (it must cover the text drawn).
pub const FONT_ENV: &str = "HEALTHPLAN_CHART_FONT";

/// Simplified-Chinese sans-serif fonts first (charts read better in a sans face), then serif
/// and the common Windows and macOS names. Matched against file names, case-insensitively.
const CJK_FILES: &[&str] = &[
    "notosanscjk",
    "notosanssc",
    "sourcehansans",
    "wqy-microhei",
    "wqy-zenhei",
    "droidsansfallback",
    "msyh",
    "simhei",
    "pingfang",
    "notoserifcjk",
    "notoserifsc",
    "sourcehanserif",
    "simsun",
    "uming",
    "ukai",
];

const LATIN_FILES: &[&str] = &[
    "dejavusans.ttf",
    "liberationsans-regular",
    "notosans-regular",
    "arial.ttf",
    "helvetica",
    "freesans",
];

/// Text every chosen CJK face must draw.
const CJK_PROBE: &str = "已达标进度正常滞后严重逆向变化无数据年目标";
const LATIN_PROBE: &str = "Achieved 2030 %";

fn font_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = [
        "/usr/share/fonts",
        "/usr/local/share/fonts",
        "/System/Library/Fonts",
        "/Library/Fonts",
        "C:\\Windows\\Fonts",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    if let Some(home) = std::env::var_os("HOME") {
        let home = PathBuf::from(home);
        dirs.push(home.join(".local/share/fonts"));
        dirs.push(home.join(".fonts"));
    }
    dirs
}

fn is_font_file(p: &Path) -> bool {
    matches!(
        p.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("ttf" | "otf" | "ttc" | "otc")
    )
}

/// Font files under `dir`, a few levels deep (font trees are shallow; this bounds the walk).
fn walk(dir: &Path, depth: u32, out: &mut Vec<PathBuf>) {
    if depth > 4 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, depth + 1, out);
        } else if is_font_file(&p) {
            out.push(p);
        }
    }
}

/// The faces of `bytes` that draw every char of `probe`, with their family names.
fn covering_faces(bytes: &[u8], probe: &str) -> Vec<(u32, String)> {
    let n = ttf_parser::fonts_in_collection(bytes).unwrap_or(1);
    (0..n)
        .filter_map(|i| {
            let face = ttf_parser::Face::parse(bytes, i).ok()?;
            if !probe.chars().all(|c| face.glyph_index(c).is_some()) {
                return None;
            }
            let family = face
                .names()
                .into_iter()
                .filter(|n| n.name_id == ttf_parser::name_id::FAMILY && n.is_unicode())
                .find_map(|n| n.to_string())
                .unwrap_or_default();
            Some((i, family))
        })
        .collect()
}

/// Reads `path` and picks its best face for `probe`; Simplified-Chinese faces first.
fn load(path: &Path, probe: &str) -> Option<SystemFont> {
    let bytes = std::fs::read(path).ok()?;
    let faces = covering_faces(&bytes, probe);
    let (index, family) = faces
        .iter()
        .find(|(_, f)| f.ends_with(" SC") || f.contains("SC ") || f.contains("GB"))
        .or(faces.first())
        .cloned()?;
    Some(SystemFont {
        path: path.to_path_buf(),
        family,
        index,
        bytes,
    })
}

fn find(preferred: &[&str], probe: &str) -> Option<SystemFont> {
    if let Some(p) = std::env::var_os(FONT_ENV) {
        if let Some(f) = load(Path::new(&p), probe) {
            return Some(f);
        }
    }
    let mut files = Vec::new();
    for d in font_dirs() {
        walk(&d, 0, &mut files);
    }
    files.sort();
    let name = |p: &PathBuf| {
        p.file_name()
            .and_then(|n| n.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default()
    };
    for want in preferred {
        // Regular weights before bold or light ones of the same family.
        let mut hits: Vec<&PathBuf> = files.iter().filter(|p| name(p).contains(want)).collect();
        hits.sort_by_key(|p| !name(p).contains("regular"));
        for p in hits {
            if let Some(f) = load(p, probe) {
                return Some(f);
            }
        }
    }
    None
}

/// An installed font that draws Simplified Chinese (`HEALTHPLAN_CHART_FONT` first, then Noto
/// Sans CJK SC, Source Han Sans, WenQuanYi, … as found); `None` when the machine has none.
pub fn cjk_font() -> Option<SystemFont> {
    find(CJK_FILES, CJK_PROBE)
}

/// An installed Latin sans-serif font (DejaVu Sans, Liberation Sans, …), for charts drawn
/// without Chinese labels when no CJK font is installed.
pub fn latin_font() -> Option<SystemFont> {
    find(LATIN_FILES, LATIN_PROBE)
}

/// The font families fontconfig knows (what LibreOffice can use on Linux), each localised
/// name of a family listed; empty when `fc-list` is not installed.
pub fn font_families() -> Vec<String> {
    let Some(fc) = crate::find_program(&["fc-list"]) else {
        return Vec::new();
    };
    let mut cmd = std::process::Command::new(fc);
    cmd.args(["--format", "%{family}\\n"]);
    let Ok(out) = crate::run(cmd, "fc-list", "fonts", crate::DEFAULT_TIMEOUT) else {
        return Vec::new();
    };
    let mut names: Vec<String> = String::from_utf8_lossy(&out)
        .lines()
        .flat_map(|l| l.split(','))
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_fonts_cover_nothing() {
        assert!(covering_faces(b"not a font", "a").is_empty());
        assert!(covering_faces(&[], "a").is_empty());
    }

    #[test]
    fn fontconfig_lists_the_installed_families() {
        let families = font_families();
        if crate::find_program(&["fc-list"]).is_none() {
            assert!(families.is_empty());
            return;
        }
        // Every family is listed once, trimmed.
        assert!(families.windows(2).all(|w| w[0] < w[1]));
        assert!(families.iter().all(|f| f.trim() == f && !f.is_empty()));
    }

    #[test]
    fn a_found_font_draws_the_probe() {
        // Runs wherever a CJK font is installed (fonts-noto-cjk in CI); silent otherwise.
        let Some(f) = cjk_font() else {
            eprintln!("skipped: no CJK font installed");
            return;
        };
        let face = ttf_parser::Face::parse(&f.bytes, f.index).unwrap();
        assert!(CJK_PROBE.chars().all(|c| face.glyph_index(c).is_some()));
        assert!(!f.family.is_empty(), "{f:?}");
    }
}
