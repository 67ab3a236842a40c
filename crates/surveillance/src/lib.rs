//! Outbreak detectors over daily and weekly surveillance count series.
