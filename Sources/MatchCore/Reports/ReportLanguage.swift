import MatchingEngine

/// The language a report's human text is written in (`lang=`). Record field names are protocol
/// and stay English; names, reasons, headings and the summary sentence follow the language.
/// Public so that the HTML page of `ewmatch report` speaks with the same words.
public enum ReportLanguage: String, CaseIterable, Sendable {
    case en, zh

    /// What a kind is called in headings and sentences (DOMAIN.md; the seed's 就业协作, 技能协作
    /// with 校校合作, 人才选派).
    public func kind(_ kind: Kind) -> String {
        switch (self, kind) {
        case (.en, .labor): "Labour"
        case (.en, .training): "Training (person-times)"
        case (.en, .enrolment): "Technical-school places"
        case (.en, .schoolPartnership): "School partnerships"
        case (.en, .talent): "Talents"
        case (.en, .secondment): "Secondments"
        case (.zh, .labor): "转移就业（人）"
        case (.zh, .training): "技能培训（人次）"
        case (.zh, .enrolment): "技工院校招生（人）"
        case (.zh, .schoolPartnership): "结对帮扶学校（所）"
        case (.zh, .talent): "选派人才（人次）"
        case (.zh, .secondment): "双向挂职（人次）"
        }
    }

    /// A column heading of the CSV file: the field name in English, its Chinese heading in zh.
    /// A field without one keeps its name.
    public func heading(_ field: String) -> String {
        guard self == .zh else { return field }
        if let kind = Kind(rawValue: field) { return self.kind(kind) }
        if let reason = DeclineReason.allCases.first(where: { $0.field == field }) { return "被拒绝对接（\(reason.label)）" }
        return Self.chineseHeadings[field] ?? field
    }

    static let chineseHeadings = [
        "level": "层级", "code": "代码", "name": "名称", "province": "所属省份", "needs": "需求条数", "demand": "需求总量",
        "confirmed": "已确认", "fill": "对接率", "placed": "实际到岗（人）",
        "poverty-placed": "其中脱贫劳动力（人）", "monitored-placed": "其中防止返贫监测对象（人）", "working": "仍在岗（人）",
        "reopened": "离岗退回需求（人）", "stable-3m": "稳定就业3个月以上（人）", "stable-6m": "同一单位稳定就业6个月以上（人）", "plan": "年度计划", "of-plan": "计划完成率",
        "last-demand": "上年需求总量", "last-confirmed": "上年已确认", "last-fill": "上年对接率", "change": "对接率变化",
        "left-behind": "进展滞后", "why": "原因",
    ]

    /// A row's level (`province`, `county`, `city`, `summary`) as a spreadsheet shows it.
    public func level(_ level: String) -> String {
        guard self == .zh else { return level }
        return ["province": "省", "county": "县", "city": "市", "summary": "小结"][level] ?? level
    }

    /// Markdown and HTML column headings beyond the kinds.
    public func column(_ field: String) -> String {
        switch self {
        case .zh:
            ["province": "省（区、市）", "county": "县", "city": "市", "last-year": "上年已确认 / 需求"][field] ?? Self.chineseHeadings[field]
                ?? field
        case .en:
            [
                "needs": "Needs", "demand": "Demand", "confirmed": "Confirmed", "fill": "Fill", "placed": "Placed",
                "poverty-placed": "Of them poverty-alleviated", "monitored-placed": "Of them monitored", "stable-3m": "Stable 3 months",
                "stable-6m": "Stable 6 months", "working": "Still at work", "reopened": "Given back", "name": "Name", "plan": "Plan",
                "of-plan": "Of plan", "last-year": "Last year", "last-fill": "Last fill", "left-behind": "Left behind",
                "province": "Province", "county": "County", "city": "City",
            ][field] ?? field
        }
    }

    /// The western report's title, as Markdown and the HTML page head it.
    public func title(year: Int) -> String {
        self == .en ? "Yearly progress report \(year)" : "\(year)年度东西部协作工作推进和落实情况"
    }

    /// What the western report is about and what fill and left behind mean.
    public var fillNote: String {
        let below = Int(ReportCommands.leftBehindBelow * 100)
        return switch self {
        case .en:
            "East–west cooperation for the national key assistance counties (东西部协作 · 国家乡村振兴重点帮扶县). "
                + "Fill is confirmed units over demand; a county with demand is left behind below \(below)%."
        case .zh: "东西部协作 · 国家乡村振兴重点帮扶县。对接率为已确认数除以需求总量；有需求的县对接率低于\(below)%即为进展滞后。"
        }
    }

    /// `42.0%`, or a dash when there is nothing to divide by.
    static func percent(_ part: Int, _ whole: Int) -> String {
        ReportCommands.ratio(part, whole).map { fixed($0 * 100, 1) + "%" } ?? "–"
    }

    // MARK: Deadline

    /// Where a province's filing stands against 15 December (每年12月15日前报送).
    public enum Filing: String, Sendable {
        /// Not filed, the deadline still ahead.
        case due
        /// Not filed, the deadline passed.
        case overdue
        case filed
        /// Filed after the deadline.
        case late

        /// Judged by days in China: filed on 15 December is on time, on the 16th late.
        public static func of(year: Int, submittedOn: Day?, today: Day) -> Filing {
            let deadline = ReportCommands.deadline(year)
            switch submittedOn {
            case let day?: return day <= deadline ? .filed : .late
            case nil: return today <= deadline ? .due : .overdue
            }
        }
    }

    /// The deadline and the filing's state in one sentence, for Markdown and HTML: when and with
    /// which fingerprint it was filed, and how many rows changed since (nil: not compared).
    public func filingLine(year: Int, _ filing: Filing, submittedAt: String?, fingerprint: String?, changed: Int?) -> String {
        let deadline = ReportCommands.deadline(year).description
        let filed: String
        switch self {
        case .en:
            filed =
                "filed \(submittedAt ?? "-") (SHA-256 \(fingerprint ?? "-"))" + (changed.map { "; \($0) rows changed since" } ?? "") + "."
        case .zh:
            filed = "已于\(submittedAt ?? "-")报送（SHA-256 \(fingerprint ?? "-")）" + (changed.map { "；报送后有\($0)行发生变化" } ?? "") + "。"
        }
        switch (self, filing) {
        case (.en, .due): return "Deadline \(deadline) (每年12月15日前报送): not filed yet."
        case (.en, .overdue): return "Deadline \(deadline) (每年12月15日前报送): overdue, not filed."
        case (.en, .filed): return "Deadline \(deadline) (每年12月15日前报送): " + filed
        case (.en, .late): return "Deadline \(deadline) (每年12月15日前报送): late, " + filed
        case (.zh, .due): return "报送截止日期：\(deadline)（每年12月15日前报送）。尚未报送。"
        case (.zh, .overdue): return "报送截止日期：\(deadline)（每年12月15日前报送）。已逾期，尚未报送。"
        case (.zh, .filed): return "报送截止日期：\(deadline)（每年12月15日前报送）。" + filed
        case (.zh, .late): return "报送截止日期：\(deadline)（每年12月15日前报送）。逾期报送：" + filed
        }
    }
}

/// The sentence a province's yearly report opens with (帮助…实现就业X人；培训…人次；选派…人次),
/// from the report's confirmed units. Each kind is one clause; a clause may carry details that
/// qualify its figure (其中脱贫劳动力Y人, 稳定就业3个月以上Z人), appended once the figures exist.
struct ReportSummary {
    struct Phrase {
        var en: String
        var zh: String
    }

    struct Clause {
        var main: Phrase
        var details: [Phrase] = []

        func text(_ language: ReportLanguage) -> String {
            let parts = [main] + details
            return parts.map { language == .en ? $0.en : $0.zh }.joined(separator: language == .en ? ", " : "，")
        }
    }

    /// Who the figures are about: a province's or city's name, or several.
    var subject: String
    var year: Int
    var side: Side
    var units: [Kind: Int]
    /// The labour placements' people, where the report has them (the western side): 实现就业
    /// counts the people placed, with their 脱贫劳动力 and 监测对象 and who stayed in work.
    var people: FlowPeople?

    var clauses: [Clause] {
        let (labor, training, schools, talent) = (
            units[.labor] ?? 0, units[.training] ?? 0, units[.schoolPartnership] ?? 0, units[.talent] ?? 0
        )
        var clauses: [Clause]
        if let people {
            clauses = [
                Clause(
                    main: Phrase(
                        en: "helped \(people.placed) workers of the key assistance counties into jobs",
                        zh: "帮助重点帮扶县农村劳动力实现就业\(people.placed)人"),
                    details: [
                        Phrase(
                            en: "of them \(people.poverty) poverty-alleviated and \(people.monitored) under monitoring",
                            zh: "其中脱贫劳动力\(people.poverty)人、防止返贫监测对象\(people.monitored)人")
                    ]),
                Clause(
                    main: Phrase(
                        en: "\(people.stable3) in stable work for 3 months or more, \(people.stable6) with one employer for 6 months",
                        zh: "稳定就业3个月以上\(people.stable3)人，同一单位稳定就业6个月以上\(people.stable6)人")),
            ]
        } else {
            clauses = [
                Clause(
                    main: side == .east
                        ? Phrase(en: "took in \(labor) workers from the key assistance counties", zh: "吸纳重点帮扶县农村劳动力就业\(labor)人")
                        : Phrase(en: "helped \(labor) workers of the key assistance counties into jobs", zh: "帮助重点帮扶县农村劳动力实现就业\(labor)人"))
            ]
        }
        if let enrolled = units[.enrolment], enrolled > 0 {
            clauses.append(Clause(main: Phrase(en: "enrolled \(enrolled) in technical schools", zh: "技工院校招生\(enrolled)人")))
        }
        clauses += [
            Clause(main: Phrase(en: "trained \(training)", zh: "培训\(training)人次")),
            Clause(main: Phrase(en: "partnered \(schools) technical schools", zh: "结对帮扶技工院校\(schools)所")),
            Clause(main: Phrase(en: "dispatched \(talent) professionals", zh: "选派专业技术人才\(talent)人次")),
        ]
        if let seconded = units[.secondment], seconded > 0 {
            clauses.append(Clause(main: Phrase(en: "\(seconded) secondments both ways", zh: "双向挂职\(seconded)人次")))
        }
        return clauses
    }

    func sentence(_ language: ReportLanguage) -> String {
        let body = clauses.map { $0.text(language) }
        switch language {
        case .en: return "\(subject), \(year): " + body.joined(separator: "; ") + "."
        case .zh: return "\(subject)\(year)年" + (side == .east ? "" : "通过东西部协作") + body.joined(separator: "；") + "。"
        }
    }

    /// The subject for report rows of one level: the one's name, or how many there are.
    static func subject(_ names: [String], level: String, _ language: ReportLanguage) -> String {
        if names.count == 1 { return names[0] }
        switch (language, level) {
        case (.en, "city"): return "\(names.count) cities"
        case (.en, _): return "\(names.count) provinces"
        case (.zh, "city"): return "\(names.count)个城市合计"
        case (.zh, _): return "\(names.count)个省（区、市）合计"
        }
    }
}
