-- The `earlier` tier (pre-2021 pairings, still encouraged to help "through market means"), as
-- ../shared/data/SOURCES.md lists them, inventing none. Pairs whose western side is outside the
-- ten western provinces of this registry (河北 张家口/保定, 辽宁 大连's partner side, 湖北 恩施,
-- 吉林 延边) are left out; pairs that are also current stay current in the score, which ranks
-- current above earlier.
INSERT INTO pairing (east_province, east_city, west_province, west_area, west_county, level, period, source) VALUES
    -- 2016《关于进一步加强东西部扶贫协作工作的指导意见》 as 宁波日报 2016-12-08 quotes it (SOURCES.md, History).
    ('11', '', '15', '', NULL, 'province', 'earlier', '2016 指导意见 (宁波日报 2016-12-08)'),
    ('12', '', '62', '', NULL, 'province', 'earlier', '2016 指导意见 (宁波日报 2016-12-08)'),
    ('31', '', '53', '', NULL, 'province', 'earlier', '2016 指导意见 (宁波日报 2016-12-08)'),
    ('31', '', '52', '遵义市', NULL, 'city', 'earlier', '2016 指导意见 (宁波日报 2016-12-08)'),
    ('32', '', '61', '', NULL, 'province', 'earlier', '2016 指导意见 (宁波日报 2016-12-08)'),
    ('32', '', '63', '西宁市', NULL, 'city', 'earlier', '2016 指导意见 (宁波日报 2016-12-08)'),
    ('32', '', '63', '海东市', NULL, 'city', 'earlier', '2016 指导意见 (宁波日报 2016-12-08)'),
    ('32', '江苏省苏州市', '52', '铜仁市', NULL, 'city', 'earlier', '2016 指导意见 (宁波日报 2016-12-08)'),
    ('33', '', '51', '', NULL, 'province', 'earlier', '2016 指导意见 (宁波日报 2016-12-08)'),
    ('33', '浙江省杭州市', '52', '黔东南苗族侗族自治州', NULL, 'city', 'earlier', '2016 指导意见 (宁波日报 2016-12-08)'),
    ('33', '浙江省宁波市', '52', '黔西南布依族苗族自治州', NULL, 'city', 'earlier', '2016 指导意见 (宁波日报 2016-12-08)'),
    -- 广东 helped 广西、四川、云南、贵州 before the 2021 adjustment (S29).
    ('44', '', '51', '', NULL, 'province', 'earlier', 'S29'),
    ('44', '', '53', '', NULL, 'province', 'earlier', 'S29'),
    ('44', '', '45', '', NULL, 'province', 'earlier', 'S29'),
    ('44', '', '52', '', NULL, 'province', 'earlier', 'S29'),
    -- 滇西 两后生 enrolment programme, 2020 (S32): each eastern province takes the named prefectures.
    ('31', '', '53', '丽江市', NULL, 'city', 'earlier', 'S32'),
    ('31', '', '53', '保山市', NULL, 'city', 'earlier', 'S32'),
    ('31', '', '53', '楚雄彝族自治州', NULL, 'city', 'earlier', 'S32'),
    ('31', '', '53', '西双版纳傣族自治州', NULL, 'city', 'earlier', 'S32'),
    ('12', '', '53', '红河哈尼族彝族自治州', NULL, 'city', 'earlier', 'S32'),
    ('12', '', '53', '怒江傈僳族自治州', NULL, 'city', 'earlier', 'S32'),
    ('32', '', '53', '大理白族自治州', NULL, 'city', 'earlier', 'S32'),
    ('32', '', '53', '普洱市', NULL, 'city', 'earlier', 'S32'),
    ('33', '', '53', '临沧市', NULL, 'city', 'earlier', 'S32'),
    ('33', '', '53', '德宏傣族景颇族自治州', NULL, 'city', 'earlier', 'S32');
