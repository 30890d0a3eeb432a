-- The 31 provincial-level divisions (GB/T 2260 codes). West: the 12 western provinces of the
-- east-west cooperation; east: the 8 provinces paired with them since 2021; other: the rest.
INSERT INTO province (code, name, side) VALUES
    ('11', '北京市', 'east'), ('12', '天津市', 'east'), ('13', '河北省', 'other'), ('14', '山西省', 'other'),
    ('15', '内蒙古自治区', 'west'), ('21', '辽宁省', 'other'), ('22', '吉林省', 'other'), ('23', '黑龙江省', 'other'),
    ('31', '上海市', 'east'), ('32', '江苏省', 'east'), ('33', '浙江省', 'east'), ('34', '安徽省', 'other'),
    ('35', '福建省', 'east'), ('36', '江西省', 'other'), ('37', '山东省', 'east'), ('41', '河南省', 'other'),
    ('42', '湖北省', 'other'), ('43', '湖南省', 'other'), ('44', '广东省', 'east'), ('45', '广西壮族自治区', 'west'),
    ('46', '海南省', 'other'), ('50', '重庆市', 'west'), ('51', '四川省', 'west'), ('52', '贵州省', 'west'),
    ('53', '云南省', 'west'), ('54', '西藏自治区', 'west'), ('61', '陕西省', 'west'), ('62', '甘肃省', 'west'),
    ('63', '青海省', 'west'), ('64', '宁夏回族自治区', 'west'), ('65', '新疆维吾尔自治区', 'west');
