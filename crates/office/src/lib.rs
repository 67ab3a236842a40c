//! Office tools run as subprocesses: LibreOffice (headless) to turn legacy Word and WPS files
//! into .docx and documents into PDF, and poppler to read a PDF's text layout or render a
//! page to PNG. Each call works in its own temporary directory (and its own LibreOffice
//! profile, so calls may run at once) and is killed after a time limit.
//!
//! When a tool is not installed the error says which Debian package provides it, so callers
//! can tell the user what to install and carry on with the formats that need nothing.
//!
//! [`import_plan_file`] reads a plan document of any supported format from bytes in memory:
//! .txt and .docx straight through the importer, .doc/.wps/.rtf/.odt converted to .docx by
//! LibreOffice first, .pdf read in physical page layout by poppler.
//!
//! `fonts` finds installed fonts for charts drawn in Rust.

pub mod fonts;

pub use fonts::{cjk_font, font_families, latin_font, SystemFont};

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    #[error("{tool} is not installed (Debian package {package}) / 未安装 {tool}")]
    Missing {
        tool: &'static str,
        package: &'static str,
    },
    #[error("{tool} failed on {file}: {reason}")]
    Failed {
        tool: &'static str,
        file: String,
        reason: String,
    },
    #[error("{tool} took longer than {secs} s on {file} and was stopped")]
    Timeout {
        tool: &'static str,
        file: String,
        secs: u64,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{file}: 读取 {format} 文件需要 {tool}（Debian 软件包 {package}），请安装，或另存为 .docx 后导入 / reading a {format} file needs {tool}, which is not installed (Debian package {package}); install it or save the file as .docx")]
    ToolNeeded {
        file: String,
        format: &'static str,
        tool: &'static str,
        package: &'static str,
    },
    #[error("{file}: PDF 中没有可读取的文字（可能是扫描图片），请提供 .docx 或带文字层的 PDF / the PDF has no text layer (a scan?)")]
    NoText { file: String },
    #[error(transparent)]
    Import(#[from] healthplan_importer::ImportError),
}

pub type Result<T, E = OfficeError> = std::result::Result<T, E>;

/// How long one conversion may take; LibreOffice's first start in a fresh profile is slow.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

const LIBREOFFICE: &str = "LibreOffice";
const LIBREOFFICE_PACKAGE: &str = "libreoffice-writer-nogui";
const POPPLER_PACKAGE: &str = "poppler-utils";

/// The first of `names` found on `PATH`.
pub(crate) fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// LibreOffice's command, when installed.
pub fn libreoffice() -> Option<PathBuf> {
    find_program(&["soffice", "libreoffice"])
}

/// Whether LibreOffice is installed (PDF output and .doc/.wps input need it).
pub fn has_libreoffice() -> bool {
    libreoffice().is_some()
}

/// LibreOffice's command, or the error naming the package to install.
pub fn require_libreoffice() -> Result<PathBuf> {
    libreoffice().ok_or(OfficeError::Missing {
        tool: LIBREOFFICE,
        package: LIBREOFFICE_PACKAGE,
    })
}

/// Whether poppler's `pdftotext` and `pdftoppm` are installed.
pub fn has_poppler() -> bool {
    find_program(&["pdftotext"]).is_some() && find_program(&["pdftoppm"]).is_some()
}

/// Runs `cmd` to completion within `timeout`; stdout is returned, a non-zero exit is an error
/// carrying the end of stderr.
pub(crate) fn run(
    mut cmd: Command,
    tool: &'static str,
    file: &str,
    timeout: Duration,
) -> Result<Vec<u8>> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Drain both pipes on threads so a chatty tool cannot block on a full pipe.
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(OfficeError::Timeout {
                tool,
                file: file.to_string(),
                secs: timeout.as_secs(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        let text = String::from_utf8_lossy(&stderr);
        let tail: String = text
            .trim()
            .chars()
            .rev()
            .take(400)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(OfficeError::Failed {
            tool,
            file: file.to_string(),
            reason: format!("{status}: {tail}"),
        });
    }
    Ok(stdout)
}

/// A file name safe to write in a temporary directory: the extension kept, the rest replaced.
fn safe_name(file_name: &str, default_ext: &str) -> String {
    let ext = Path::new(file_name)
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or(default_ext)
        .to_ascii_lowercase();
    format!("input.{ext}")
}

/// LibreOffice converting to `to` into `out_dir`, with a private profile in `dir` (concurrent
/// conversions never share, or lock, one); the inputs are added by the caller.
fn soffice(program: &Path, dir: &Path, out_dir: &Path, to: &str) -> Command {
    let profile = format!("file://{}", dir.join("profile").display());
    let mut cmd = Command::new(program);
    cmd.arg(format!("-env:UserInstallation={profile}"))
        .args([
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            to,
        ])
        .arg("--outdir")
        .arg(out_dir)
        .env("HOME", dir);
    cmd
}

/// Converts a document (given as bytes, `file_name` names it in errors and gives its
/// extension) with LibreOffice headless to `to` (`"docx"`, `"pdf"`), returning the bytes.
pub fn convert(bytes: &[u8], file_name: &str, to: &str, timeout: Duration) -> Result<Vec<u8>> {
    let program = require_libreoffice()?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join(safe_name(file_name, "bin"));
    std::fs::write(&input, bytes)?;
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir)?;
    let mut cmd = soffice(&program, dir.path(), &out_dir, to);
    cmd.arg(&input);
    run(cmd, LIBREOFFICE, file_name, timeout)?;
    let produced = out_dir.join(format!("input.{to}"));
    std::fs::read(&produced).map_err(|_| OfficeError::Failed {
        tool: LIBREOFFICE,
        file: file_name.to_string(),
        reason: format!("no .{to} was produced (is the file a document LibreOffice can read?)"),
    })
}

/// Converts many documents with one LibreOffice start (which costs seconds; each document
/// then takes a fraction of one): `docs` are (file name, bytes), and the result holds, in the
/// same order, each document's converted bytes or the error naming it.
pub fn convert_many(
    docs: &[(String, Vec<u8>)],
    to: &str,
    timeout: Duration,
) -> Result<Vec<Result<Vec<u8>>>> {
    let program = require_libreoffice()?;
    let dir = tempfile::tempdir()?;
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir)?;
    let mut inputs = Vec::with_capacity(docs.len());
    for (i, (name, bytes)) in docs.iter().enumerate() {
        // Numbered names: the outputs are found by them, whatever the originals were called.
        let ext = safe_name(name, "bin");
        let input = dir
            .path()
            .join(format!("{i:05}.{}", &ext["input.".len()..]));
        std::fs::write(&input, bytes)?;
        inputs.push(input);
    }
    let mut cmd = soffice(&program, dir.path(), &out_dir, to);
    cmd.args(&inputs);
    run(cmd, LIBREOFFICE, "(batch)", timeout)?;
    Ok(docs
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            std::fs::read(out_dir.join(format!("{i:05}.{to}"))).map_err(|_| OfficeError::Failed {
                tool: LIBREOFFICE,
                file: name.clone(),
                reason: format!("no .{to} was produced"),
            })
        })
        .collect())
}

/// The text of a PDF in reading order (`pdftotext`), pages separated by form feeds.
pub fn pdf_to_text(bytes: &[u8], file_name: &str, timeout: Duration) -> Result<String> {
    pdftotext(bytes, file_name, &[], timeout)
}

/// The text of a PDF with its page layout kept (`pdftotext -layout`), pages separated by
/// form feeds.
pub fn pdf_to_layout_text(bytes: &[u8], file_name: &str, timeout: Duration) -> Result<String> {
    pdftotext(bytes, file_name, &["-layout"], timeout)
}

/// The text of a PDF in physical layout (`pdftotext -layout -fixed PITCH`): every word that
/// starts a line of text sits at column `x / pitch` (points), so table columns line up by
/// position whatever the fonts. Pages are separated by form feeds.
pub fn pdf_to_physical_layout_text(
    bytes: &[u8],
    file_name: &str,
    pitch: f64,
    timeout: Duration,
) -> Result<String> {
    let pitch = format!("{:.2}", pitch.clamp(0.5, 20.0));
    pdftotext(bytes, file_name, &["-layout", "-fixed", &pitch], timeout)
}

/// `pdftotext ARGS input.pdf -` as UTF-8 text.
fn pdftotext(bytes: &[u8], file_name: &str, args: &[&str], timeout: Duration) -> Result<String> {
    let Some(program) = find_program(&["pdftotext"]) else {
        return Err(OfficeError::Missing {
            tool: "pdftotext",
            package: POPPLER_PACKAGE,
        });
    };
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("input.pdf");
    std::fs::write(&input, bytes)?;
    let mut cmd = Command::new(program);
    cmd.args(args).args(["-enc", "UTF-8"]).arg(&input).arg("-");
    let out = run(cmd, "pdftotext", file_name, timeout)?;
    String::from_utf8(out).map_err(|_| OfficeError::Failed {
        tool: "pdftotext",
        file: file_name.to_string(),
        reason: "the text is not UTF-8".into(),
    })
}

/// Page `page` (1-based) of a PDF as a PNG at `dpi`.
pub fn pdf_page_png(bytes: &[u8], file_name: &str, page: u32, dpi: u32) -> Result<Vec<u8>> {
    let Some(program) = find_program(&["pdftoppm"]) else {
        return Err(OfficeError::Missing {
            tool: "pdftoppm",
            package: POPPLER_PACKAGE,
        });
    };
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("input.pdf");
    std::fs::write(&input, bytes)?;
    let prefix = dir.path().join("page");
    let mut cmd = Command::new(program);
    cmd.args(["-png", "-singlefile", "-r"])
        .arg(dpi.to_string())
        .arg("-f")
        .arg(page.to_string())
        .arg("-l")
        .arg(page.to_string())
        .arg(&input)
        .arg(&prefix);
    run(cmd, "pdftoppm", file_name, DEFAULT_TIMEOUT)?;
    Ok(std::fs::read(prefix.with_extension("png"))?)
}

/// The kind of plan document some bytes are, by content first and then by the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanFormat {
    /// Plain text (UTF-8, UTF-16 or GB18030).
    Text,
    Docx,
    Pdf,
    /// A document LibreOffice turns into .docx: `doc`, `wps`, `rtf` or `odt`.
    Convertible(&'static str),
}

impl PlanFormat {
    /// Sniffs `bytes`; the extension of `file_name` decides only where the content does not.
    pub fn of(bytes: &[u8], file_name: &str) -> PlanFormat {
        let ext = Path::new(file_name)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let head = &bytes[..bytes.len().min(4096)];
        let contains = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
        if bytes.starts_with(b"%PDF-") {
            return PlanFormat::Pdf;
        }
        if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            // Word 97–2003 and WPS documents share the compound-file container.
            return PlanFormat::Convertible(if ext == "wps" || ext == "wpt" {
                "wps"
            } else {
                "doc"
            });
        }
        if bytes.starts_with(b"{\\rtf") {
            return PlanFormat::Convertible("rtf");
        }
        if bytes.starts_with(b"PK\x03\x04") {
            if contains(b"word/") {
                return PlanFormat::Docx;
            }
            if contains(b"opendocument.text") || ext == "odt" {
                return PlanFormat::Convertible("odt");
            }
            return PlanFormat::Docx;
        }
        match ext.as_str() {
            "pdf" => PlanFormat::Pdf,
            "docx" | "docm" => PlanFormat::Docx,
            "doc" | "dot" => PlanFormat::Convertible("doc"),
            "wps" | "wpt" => PlanFormat::Convertible("wps"),
            "rtf" => PlanFormat::Convertible("rtf"),
            "odt" => PlanFormat::Convertible("odt"),
            _ => PlanFormat::Text,
        }
    }
}

/// Column width, in points, of the physical page layout a PDF is read in: fine enough that
/// every glyph is wider than one column, so each word sits where it is on the page.
const PDF_PITCH: f64 = 3.0;

/// Reads a plan document of any supported format from bytes (`file_name` gives the
/// extension and names the file in errors) and imports it. .doc/.wps/.rtf/.odt need
/// LibreOffice and .pdf needs poppler; without them the error names the Debian package.
pub fn import_plan_file(
    bytes: &[u8],
    file_name: &str,
) -> Result<healthplan_importer::Imported, OfficeError> {
    let needed = |format: &'static str, e: OfficeError| match e {
        OfficeError::Missing { tool, package } => OfficeError::ToolNeeded {
            file: file_name.to_string(),
            format,
            tool,
            package,
        },
        e => e,
    };
    match PlanFormat::of(bytes, file_name) {
        PlanFormat::Text | PlanFormat::Docx => {
            Ok(healthplan_importer::import_bytes(bytes, file_name)?)
        }
        PlanFormat::Pdf => {
            let text = pdf_to_physical_layout_text(bytes, file_name, PDF_PITCH, DEFAULT_TIMEOUT)
                .map_err(|e| needed(".pdf", e))?;
            if text.trim().is_empty() {
                return Err(OfficeError::NoText {
                    file: file_name.to_string(),
                });
            }
            Ok(healthplan_importer::import_layout_text(&text, file_name)?)
        }
        PlanFormat::Convertible(format) => {
            let dotted = match format {
                "wps" => ".wps",
                "rtf" => ".rtf",
                "odt" => ".odt",
                _ => ".doc",
            };
            let docx = convert(bytes, file_name, "docx", DEFAULT_TIMEOUT)
                .map_err(|e| needed(dotted, e))?;
            let mut imported = healthplan_importer::import_bytes(&docx, file_name)?;
            imported.encoding = format;
            Ok(imported)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_names_keep_only_a_plain_extension() {
        assert_eq!(safe_name("计划.DOC", "bin"), "input.doc");
        assert_eq!(safe_name("../../etc/passwd", "bin"), "input.bin");
        assert_eq!(safe_name("a.w p s", "bin"), "input.bin");
    }

    #[test]
    fn a_failing_tool_reports_its_stderr() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo broken >&2; exit 3"]);
        let e = run(cmd, "sh", "x.doc", DEFAULT_TIMEOUT).unwrap_err();
        assert!(e.to_string().contains("broken"), "{e}");
    }

    #[test]
    fn a_slow_tool_is_stopped() {
        let mut cmd = Command::new("sleep");
        cmd.arg("5");
        let e = run(cmd, "sleep", "x", Duration::from_millis(100)).unwrap_err();
        assert!(matches!(e, OfficeError::Timeout { .. }), "{e}");
    }

    #[test]
    fn plan_formats_are_sniffed_before_the_extension_counts() {
        let ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
        assert_eq!(PlanFormat::of(b"%PDF-1.7", "a.txt"), PlanFormat::Pdf);
        assert_eq!(
            PlanFormat::of(&ole, "a.doc"),
            PlanFormat::Convertible("doc")
        );
        assert_eq!(
            PlanFormat::of(&ole, "a.WPS"),
            PlanFormat::Convertible("wps")
        );
        assert_eq!(
            PlanFormat::of(&ole, "a.docx"),
            PlanFormat::Convertible("doc")
        );
        assert_eq!(
            PlanFormat::of(b"{\\rtf1 x", "a"),
            PlanFormat::Convertible("rtf")
        );
        assert_eq!(
            PlanFormat::of(b"PK\x03\x04..word/document.xml", "a.bin"),
            PlanFormat::Docx
        );
        assert_eq!(PlanFormat::of("健康".as_bytes(), "a.pdf"), PlanFormat::Pdf);
        assert_eq!(PlanFormat::of("健康".as_bytes(), "plan"), PlanFormat::Text);
    }

    #[test]
    fn text_imports_without_any_tool() {
        let text = "健康某某行动方案\n一、主要任务\n1.加强健康教育。到2025年，居民健康素养水平不低于30%。（区卫生健康局负责）\n";
        let imp = import_plan_file(text.as_bytes(), "方案.txt").unwrap();
        assert_eq!(imp.plan.target_statements.len(), 1);
        let e = import_plan_file(b"", "empty.txt").unwrap_err();
        assert!(matches!(e, OfficeError::Import(_)), "{e}");
        assert!(e.to_string().contains("empty.txt"), "{e}");
    }

    /// .doc made by LibreOffice from text, then read back through it.
    #[test]
    fn doc_round_trip_through_libreoffice() {
        if !has_libreoffice() {
            eprintln!("skipped: LibreOffice is not installed");
            return;
        }
        let text = "健康某某行动方案\n1.加强健康教育。到2025年，居民健康素养水平不低于30%。（区卫生健康局负责）\n";
        let doc = convert(text.as_bytes(), "a.txt", "doc", DEFAULT_TIMEOUT).unwrap();
        let imp = import_plan_file(&doc, "a.doc").unwrap();
        assert_eq!(imp.encoding, "doc");
        assert_eq!(imp.plan.target_statements.len(), 1);
        let r = imp.plan.tasks[0].responsible.as_ref().unwrap();
        assert_eq!(r.units, ["区卫生健康局"]);
    }

    /// The round trip the report and importer rely on, when LibreOffice is installed.
    #[test]
    fn text_to_pdf_to_text() {
        if !has_libreoffice() || !has_poppler() {
            eprintln!("skipped: LibreOffice or poppler is not installed");
            return;
        }
        let pdf = convert(
            "健康行动 2025\n".as_bytes(),
            "a.txt",
            "pdf",
            DEFAULT_TIMEOUT,
        )
        .unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        let text = pdf_to_layout_text(&pdf, "a.pdf", DEFAULT_TIMEOUT).unwrap();
        assert!(text.contains("2025"), "{text}");
        let png = pdf_page_png(&pdf, "a.pdf", 1, 50).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
    }
}
