use crate::error::CoreError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Administrative level, top (province) to bottom (community/village).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AreaLevel {
    Province = 1,
    City = 2,
    County = 3,
    Town = 4,
    Village = 5,
}

impl AreaLevel {
    pub const ALL: [AreaLevel; 5] = [
        AreaLevel::Province,
        AreaLevel::City,
        AreaLevel::County,
        AreaLevel::Town,
        AreaLevel::Village,
    ];

    pub fn depth(self) -> u8 {
        self as u8
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AreaLevel::Province => "province",
            AreaLevel::City => "city",
            AreaLevel::County => "county",
            AreaLevel::Town => "town",
            AreaLevel::Village => "village",
        }
    }

    /// Level implied by a GB/T 2260 code (and the 9/12-digit statistical extensions).
    pub fn from_code(code: &AreaCode) -> AreaLevel {
        let c = code.as_str();
        match c.len() {
            12 => AreaLevel::Village,
            9 => AreaLevel::Town,
            _ if &c[2..] == "0000" => AreaLevel::Province,
            _ if &c[4..] == "00" => AreaLevel::City,
            _ => AreaLevel::County,
        }
    }
}

impl fmt::Display for AreaLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AreaLevel {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "province" | "省" | "1" => AreaLevel::Province,
            "city" | "市" | "2" => AreaLevel::City,
            "county" | "district" | "county-district" | "区" | "县" | "区县" | "3" => {
                AreaLevel::County
            }
            "town" | "street" | "street-town" | "街道" | "镇" | "乡镇" | "4" => {
                AreaLevel::Town
            }
            "village" | "community" | "community-village" | "社区" | "村" | "5" => {
                AreaLevel::Village
            }
            other => return Err(CoreError::AreaLevel(other.to_string())),
        })
    }
}

/// A GB/T 2260 administrative code (6 digits), or its 9-digit (town) / 12-digit (village)
/// statistical extension.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AreaCode(String);

impl AreaCode {
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        let s = s.trim();
        let ok = matches!(s.len(), 6 | 9 | 12)
            && s.bytes().all(|b| b.is_ascii_digit())
            && &s[..2] != "00";
        if ok {
            Ok(AreaCode(s.to_string()))
        } else {
            Err(CoreError::AreaCode(s.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for AreaCode {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AreaCode::parse(s)
    }
}

impl TryFrom<String> for AreaCode {
    type Error = CoreError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        AreaCode::parse(&s)
    }
}

impl From<AreaCode> for String {
    fn from(c: AreaCode) -> String {
        c.0
    }
}

/// An administrative area. Construct with [`Area::new`]; a child must sit below its parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Area {
    pub code: AreaCode,
    pub name: String,
    pub level: AreaLevel,
    pub parent: Option<AreaCode>,
}

impl Area {
    /// `parent` is the parent area itself (not just its code) so the level rule can be checked.
    pub fn new(
        code: AreaCode,
        name: &str,
        level: AreaLevel,
        parent: Option<&Area>,
    ) -> Result<Area, CoreError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CoreError::invalid(
                "name",
                format!("area {code} has an empty name"),
            ));
        }
        crate::validate::check_name("name", name)?;
        if let Some(p) = parent {
            if p.level >= level {
                return Err(CoreError::AreaHierarchy {
                    child: format!("{code} {name}"),
                    child_level: level.to_string(),
                    parent: format!("{} {}", p.code, p.name),
                    parent_level: p.level.to_string(),
                });
            }
            if p.code == code {
                return Err(CoreError::invalid(
                    "parent_code",
                    format!("area {code} cannot be its own parent"),
                ));
            }
        }
        Ok(Area {
            code,
            name: name.to_string(),
            level,
            parent: parent.map(|p| p.code.clone()),
        })
    }
}

/// A responsible unit (责任单位), belonging to an area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Department {
    pub name: String,
    pub area: AreaCode,
}

impl Department {
    pub fn new(name: &str, area: AreaCode) -> Result<Department, CoreError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CoreError::invalid("department", "empty name"));
        }
        crate::validate::check_name("department", name)?;
        Ok(Department {
            name: name.to_string(),
            area,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> AreaCode {
        AreaCode::parse(s).unwrap()
    }

    #[test]
    fn codes_imply_levels() {
        assert_eq!(AreaLevel::from_code(&code("440000")), AreaLevel::Province);
        assert_eq!(AreaLevel::from_code(&code("440300")), AreaLevel::City);
        assert_eq!(AreaLevel::from_code(&code("440310")), AreaLevel::County);
        assert_eq!(AreaLevel::from_code(&code("440310001")), AreaLevel::Town);
        assert_eq!(
            AreaLevel::from_code(&code("440310001001")),
            AreaLevel::Village
        );
        for bad in ["44030", "4403000", "44O300", "000000", ""] {
            assert!(AreaCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn child_must_be_below_parent() {
        let gd = Area::new(code("440000"), "广东省", AreaLevel::Province, None).unwrap();
        let sz = Area::new(code("440300"), "深圳市", AreaLevel::City, Some(&gd)).unwrap();
        assert_eq!(sz.parent, Some(code("440000")));
        let e = Area::new(code("440100"), "广州市", AreaLevel::Province, Some(&gd)).unwrap_err();
        assert!(e.to_string().contains("440100"), "{e}");
        assert!(Area::new(code("440310"), " ", AreaLevel::County, Some(&sz)).is_err());
    }
}
