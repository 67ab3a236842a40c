//! Data exchange formats: XLSX collection templates, CSV, DHIS2 dataValueSets JSON and ADX.
