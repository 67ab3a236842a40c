-- A department's variant name (市文化广电旅游体育局 for 市文广旅体局): grants, plans, forms
-- and imports that name the variant mean the department. One row per variant.
CREATE TABLE department_aliases (
    alias      TEXT PRIMARY KEY,
    department TEXT NOT NULL
);
