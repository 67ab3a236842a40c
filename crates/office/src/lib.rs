//! Office tools run as subprocesses: LibreOffice (headless) to turn legacy Word and WPS files
//! into .docx and documents into PDF, and poppler to read a PDF's text layout or render a
//! page to PNG. Each call works in its own temporary directory (and its own LibreOffice
//! profile, so calls may run at once) and is killed after a time limit.
//!
//! When a tool is not installed the error says which Debian package provides it, so callers
//! can tell the user what to install and carry on with the formats that need nothing.

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
}

pub type Result<T, E = OfficeError> = std::result::Result<T, E>;

/// How long one conversion may take; LibreOffice's first start in a fresh profile is slow.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

const LIBREOFFICE: &str = "LibreOffice";
const LIBREOFFICE_PACKAGE: &str = "libreoffice-writer-nogui";
const POPPLER_PACKAGE: &str = "poppler-utils";

/// The first of `names` found on `PATH`.
fn find_program(names: &[&str]) -> Option<PathBuf> {
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

/// Whether poppler's `pdftotext` and `pdftoppm` are installed.
pub fn has_poppler() -> bool {
    find_program(&["pdftotext"]).is_some() && find_program(&["pdftoppm"]).is_some()
}

/// Runs `cmd` to completion within `timeout`; stdout is returned, a non-zero exit is an error
/// carrying the end of stderr.
fn run(mut cmd: Command, tool: &'static str, file: &str, timeout: Duration) -> Result<Vec<u8>> {
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

/// Converts a document (given as bytes, `file_name` names it in errors and gives its
/// extension) with LibreOffice headless to `to` (`"docx"`, `"pdf"`), returning the bytes.
pub fn convert(bytes: &[u8], file_name: &str, to: &str, timeout: Duration) -> Result<Vec<u8>> {
    let Some(program) = libreoffice() else {
        return Err(OfficeError::Missing {
            tool: LIBREOFFICE,
            package: LIBREOFFICE_PACKAGE,
        });
    };
    let dir = tempfile::tempdir()?;
    let input = dir.path().join(safe_name(file_name, "bin"));
    std::fs::write(&input, bytes)?;
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir)?;
    // A private profile: concurrent conversions never share (or lock) one.
    let profile = format!("file://{}", dir.path().join("profile").display());
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
        .arg(&out_dir)
        .arg(&input)
        .env("HOME", dir.path());
    run(cmd, LIBREOFFICE, file_name, timeout)?;
    let produced = out_dir.join(format!("input.{to}"));
    std::fs::read(&produced).map_err(|_| OfficeError::Failed {
        tool: LIBREOFFICE,
        file: file_name.to_string(),
        reason: format!("no .{to} was produced (is the file a document LibreOffice can read?)"),
    })
}

/// The text of a PDF with its page layout kept (`pdftotext -layout`), pages separated by
/// form feeds.
pub fn pdf_to_layout_text(bytes: &[u8], file_name: &str, timeout: Duration) -> Result<String> {
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
    cmd.args(["-layout", "-enc", "UTF-8"]).arg(&input).arg("-");
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
