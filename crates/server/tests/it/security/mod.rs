//! One story file per finding of the black-box security test (issue 16).

mod redirect;
mod sign_in;
