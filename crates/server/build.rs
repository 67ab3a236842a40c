//! Precompresses the embedded assets (gzip and brotli, best levels) and names each by its
//! content hash, once per change of a file instead of on every request.

#[path = "src/pages/asset_name.rs"]
mod asset_name;

use std::io::Write;
use std::path::Path;

/// (served name, file under `assets/`, content type)
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.css", "app.css", "text/css; charset=utf-8"),
    ("app.js", "app.js", "text/javascript; charset=utf-8"),
    (
        "htmx.min.js",
        "vendor/htmx.min.js",
        "text/javascript; charset=utf-8",
    ),
    (
        "echarts.min.js",
        "vendor/echarts.min.js",
        "text/javascript; charset=utf-8",
    ),
    (
        "LICENSE.htmx",
        "vendor/LICENSE.htmx",
        "text/plain; charset=utf-8",
    ),
    (
        "LICENSE.echarts",
        "vendor/LICENSE.echarts",
        "text/plain; charset=utf-8",
    ),
    (
        "NOTICE.echarts",
        "vendor/NOTICE.echarts",
        "text/plain; charset=utf-8",
    ),
    ("favicon.svg", "favicon.svg", "image/svg+xml"),
];

fn main() {
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    let out = Path::new(&out);
    let mut code = String::from("pub(crate) static ASSETS: &[Asset] = &[\n");
    for (name, file, content_type) in ASSETS {
        let path = Path::new("assets").join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let abs = std::fs::canonicalize(&path).expect("asset path");
        let gz = gzip(&raw);
        let br = brotli(&raw);
        let variant = |ext: &str, bytes: &[u8]| -> String {
            // Kept only when it saves something.
            if bytes.len() >= raw.len() {
                return "None".into();
            }
            let p = out.join(format!("{name}.{ext}"));
            std::fs::write(&p, bytes).expect("write compressed asset");
            format!("Some(include_bytes!({:?}))", p.display().to_string())
        };
        let (gz, br) = (variant("gz", &gz), variant("br", &br));
        code += &format!(
            "    Asset {{ name: {name:?}, hashed: {:?}, content_type: {content_type:?}, raw: include_bytes!({:?}), gzip: {gz}, br: {br} }},\n",
            asset_name::hashed_name(name, &raw),
            abs.display().to_string(),
        );
    }
    code += "];\n";
    std::fs::write(out.join("assets.rs"), code).expect("write assets.rs");
    println!("cargo:rerun-if-changed=src/pages/asset_name.rs");
}

fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(raw).expect("gzip");
    e.finish().expect("gzip")
}

fn brotli(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &raw[..], &mut out, &params).expect("brotli");
    out
}
