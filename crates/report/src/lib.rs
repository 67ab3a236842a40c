//! Reports: the annual monitoring report (DOCX, HTML, PDF), XLSX exports and charts.
