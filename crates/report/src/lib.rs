//! Reports: the annual monitoring and evaluation report (年度监测评估报告) as DOCX, HTML and
//! PDF with charts, and the XLSX exports (data values, evaluation results, assessment).
//!
//! ```ignore
//! let mut input = ReportInput::new(plan, evaluation, assessment, settings)?;
//! input.synthetic = true;
//! let docx = healthplan_report::to_docx(&input)?;
//! let html = healthplan_report::to_html(&input);
//! let xlsx = healthplan_report::to_xlsx(&input, Export::Assessment)?;
//! ```
//!
//! Everything is a pure function of the input except two things done through
//! healthplan-office: finding an installed font for the charts, and LibreOffice for PDF.

pub mod charts;
pub mod content;
pub mod doc;
mod docx;
mod fmt;
mod fonts;
pub mod html;
mod input;
mod xlsx;

pub use doc::{Doc, SYNTHETIC};
pub use fonts::Script;
pub use input::{ReportInput, ValueKey, ValueMeta};
pub use xlsx::{to_xlsx, value_status_zh, Export};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The parts of the input do not belong together.
    #[error("{0}")]
    Input(String),
    /// The report year has no observations or comes before the plan's baseline.
    #[error("{0}")]
    Year(String),
    #[error("图表绘制失败 / chart: {0}")]
    Chart(String),
    #[error("DOCX 生成失败 / docx: {0}")]
    Docx(String),
    #[error("XLSX 生成失败 / xlsx: {0}")]
    Xlsx(String),
    /// PDF conversion: LibreOffice missing (the message names the package) or failing.
    #[error("PDF 转换失败，DOCX 和 HTML 格式不受影响 / PDF: {0}")]
    Pdf(#[from] healthplan_office::OfficeError),
}

/// The report's outline (what every format says).
pub fn outline(input: &ReportInput) -> Doc {
    content::build(input)
}

/// The report as a Word document laid out per GB/T 9704-2012.
pub fn to_docx(input: &ReportInput) -> Result<Vec<u8>, ReportError> {
    docx::render(&outline(input), &docx::Fonts::standard())
}

/// The report as one self-contained, printable HTML page.
pub fn to_html(input: &ReportInput) -> String {
    html::render(&outline(input))
}

/// The report as PDF: the DOCX converted by LibreOffice (headless). Where LibreOffice is not
/// installed the error names the Debian package to install.
pub fn to_pdf(input: &ReportInput) -> Result<Vec<u8>, ReportError> {
    // Say which package is missing before drawing anything.
    healthplan_office::require_libreoffice()?;
    // The file LibreOffice reads names the fonts this machine has (GB/T 9704's fonts where
    // installed, the closest free ones otherwise), so the PDF keeps a serif 仿宋 look.
    let fonts = docx::Fonts::installed(&healthplan_office::font_families());
    let docx = docx::render(&outline(input), &fonts)?;
    Ok(healthplan_office::convert(
        &docx,
        "report.docx",
        "pdf",
        healthplan_office::DEFAULT_TIMEOUT,
    )?)
}

/// What the charts can write on this machine (Chinese, English only, or no text).
pub fn chart_script() -> Script {
    fonts::script()
}

#[cfg(test)]
mod testdata;
#[cfg(test)]
mod tests;
