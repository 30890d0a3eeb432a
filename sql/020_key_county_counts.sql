-- What the reference data of 003 says, and does not say, about the 160 national key assistance
-- counties (国家乡村振兴重点帮扶县), per western province, each figure with its source in
-- ../shared/data/SOURCES.md (003 itself is applied and may not change, so this is said here).
--
--   province   counties   rows in 003   source
--   内蒙古      10         10            S1 (length of its list)
--   广西        20         20            S29
--   重庆         4          4            S1 (length of its list)
--   四川        25         25            S2
--   贵州        20         20            S29
--   云南        27         11            S6
--   陕西        11          2            S3, S7
--   青海        15          0            S31: 青海日报 2022-04-08, "江苏的15个县区与青海省15个国家乡村振兴重点帮扶县实现了'一对一'结对"
--                                         (each paired one-to-one with a Jiangsu county or district; names not given)
--   甘肃, 宁夏  28 together 1 (西吉县)    unsourced split: no source gives either count; S4 shows only that
--                                         西吉县 (宁夏) is one. A figure such as "宁夏 5" has no source.
--
-- No row was invented to fill the gaps: administrators add the missing 67 with COUNTY ADD.
COMMENT ON COLUMN county.is_key IS
    'national key assistance county (国家乡村振兴重点帮扶县). Reference rows: 93 of 160. Sourced counts: 内蒙古 10, 广西 20, 重庆 4, 四川 25, 贵州 20 (all loaded), 云南 27 (11 loaded), 陕西 11 (2 loaded), 青海 15 (none loaded; 青海日报 2022-04-08, paired one-to-one with 15 Jiangsu counties); 甘肃 and 宁夏 28 together, their split unsourced (1 loaded: 西吉县). See sql/020_key_county_counts.sql and ../shared/data/SOURCES.md.';
