import CommandProtocol
import Logging
import MatchCore
import MatchingEngine
import Testing

/// The command logic against the in-memory store: what each command decides, how many units of
/// work it opens, and that a refused command stores nothing. (The service itself is tested on
/// PostgreSQL over TCP in LineServerTests.)
@Suite("Command logic against an in-memory store")
struct CommandLogicTests {
    let store = MemoryStore()
    let handler: CommandHandler

    init() {
        handler = CommandHandler(store: store, settings: ServerSettings(), logger: Logger(label: "test"))
    }

    /// A session signed in with a new token of `role` and `scope`.
    func session(_ role: Role, _ scope: String = "") -> Session {
        var session = Session()
        session.principal = store.principal(role: role, scope: scope).principal
        return session
    }

    func send(_ line: String, _ session: inout Session) async -> String {
        await handler.handle(line: Array(line.utf8), session: &session)?.rendered(as: session.format) ?? ""
    }

    func seed() -> (need: Int64, offer: Int64) {
        var tables = store.tables
        let organisation = Organisation(id: 900, kind: .enterprise, name: "苏州厂", province: "32", city: "苏州市")
        tables.organisations[organisation.id] = organisation
        tables.needs[901] = Need(
            id: 901, county: "520204", kind: .labor, occupations: ["6-01"], quantity: 10, from: Day("2026-07-01")!,
            to: Day("2027-06-30")!)
        tables.offers[902] = Offer(
            id: 902, organisation: 900, kind: .labor, occupations: ["6-01"], capacity: 8, from: Day("2026-07-01")!,
            to: Day("2027-12-31")!)
        tables.lastID = 1_000
        store.tables = tables
        return (901, 902)
    }

    @Test func aReadIsOneUnitAndAWriteIsOneUnit() async {
        var west = session(.west, "county:520204")
        _ = seed()
        let before = store.units.count
        #expect(await send("COUNTY SHOW 520204", &west).hasPrefix("OK code=520204 "))
        #expect(Array(store.units.dropFirst(before)) == [.read])
        #expect(await send("NEED UPDATE 901 qty=12 note=加急", &west).hasPrefix("OK id=901 "))
        #expect(Array(store.units.dropFirst(before)) == [.read, .write])
        #expect(store.tables.needs[901]?.quantity == 12)
        let audit = store.tables.audit.last
        #expect(audit?.command == "NEED UPDATE" && audit?.target == "need:901")
        #expect(audit?.changes.map(\.0) == ["qty", "note"])
    }

    @Test func aWestTokenChangesOnlyItsOwnCountysNeedsAndARefusalStoresNothing() async {
        var other = session(.west, "county:520324")
        _ = seed()
        let before = store.tables
        #expect(await send("NEED UPDATE 901 qty=12", &other).hasPrefix("ERR DENIED "))
        #expect(await send("NEED CANCEL 901", &other).hasPrefix("ERR DENIED "))
        #expect(store.tables.needs == before.needs)
        #expect(store.tables.audit.count == before.audit.count)
    }

    @Test func confirmedUnitsPinTheNeedThroughTheCommand() async {
        var admin = session(.admin)
        _ = seed()
        store.tables.needs[901] = store.tables.needs[901]!.confirming(4)
        #expect(await send("NEED UPDATE 901 qty=3", &admin) == "ERR CONFLICT need 901: qty 3 is below its 4 confirmed units\n")
        #expect(await send("NEED CANCEL 901", &admin).hasPrefix("ERR CONFLICT need 901 has 4 confirmed units"))
        #expect(store.tables.needs[901]?.quantity == 10)
    }

    @Test func aRevokedTokenStopsAtItsNextCommand() async {
        var west = session(.west, "county:520204")
        _ = seed()
        store.tables.tokens[west.principal!.tokenID]?.revoked = true
        #expect(await send("NEED SHOW 901", &west).hasPrefix("ERR AUTH_FAILED "))
        #expect(west.principal == nil)
        #expect(await send("NEED SHOW 901", &west).hasPrefix("ERR UNAUTHENTICATED "))
    }

    @Test func bothSidesAcceptingConfirmsAndMovesTheUnits() async {
        var west = session(.west, "county:520204")
        var east = session(.east, "org:900")
        let (need, offer) = seed()
        let unit = MemoryUnit(store.tables)
        let match = unit.propose(need: need, offer: offer, units: 6)
        store.tables = unit.tables
        #expect(await send("MATCH ACCEPT \(match.id) units=5", &west).contains(" status=proposed "))
        #expect(store.tables.needs[need]?.matched == 0)
        #expect(await send("MATCH ACCEPT \(match.id) side=west", &east).hasPrefix("ERR DENIED "))
        let confirmed = await send("MATCH ACCEPT \(match.id)", &east)
        #expect(confirmed.contains(" status=confirmed ") && confirmed.contains(" confirmed=5 "), "\(confirmed)")
        #expect(store.tables.needs[need]?.matched == 5 && store.tables.needs[need]?.status == .partlyMatched)
        #expect(store.tables.offers[offer]?.matched == 5 && store.tables.offers[offer]?.status == .partlyMatched)
        #expect(await send("MATCH PLACE \(match.id) people=2 date=2026-09-01", &west).contains(" people=2 "))
        #expect(store.tables.matches[match.id]?.people.placed == 2)
        #expect(await send("MATCH CANCEL \(match.id) reason=停产", &east).contains(" status=cancelled "))
        #expect(store.tables.needs[need]?.matched == 2 && store.tables.offers[offer]?.matched == 2)
    }

    @Test func aBatchIsOneLongUnitAndAbortStoresNothing() async {
        var west = session(.west, "county:520204")
        _ = seed()
        let before = store.units.count
        #expect(await send("BEGIN", &west).hasPrefix("OK "))
        #expect(await send("NEED ADD county=520204 kind=labor occupations=6-01 qty=3 from=2027-01-01 to=2027-02-01", &west).hasPrefix("OK id="))
        #expect(await send("NEED UPDATE 901 qty=11", &west).hasPrefix("OK id=901 "))
        #expect(Array(store.units.dropFirst(before)) == [.long])
        #expect(await send("ABORT", &west) == "OK aborted; nothing was stored\n")
        #expect(store.tables.needs.count == 1 && store.tables.needs[901]?.quantity == 10)
    }

    @Test func theFirstErrorVoidsTheBatch() async {
        var west = session(.west, "county:520204")
        _ = seed()
        #expect(await send("BEGIN", &west).hasPrefix("OK "))
        #expect(await send("NEED UPDATE 901 qty=11", &west).hasPrefix("OK id=901 "))
        #expect(await send("NEED UPDATE 999 qty=11", &west).hasPrefix("ERR NOT_FOUND no need 999 (batch aborted at line"))
        #expect(await send("COMMIT", &west).hasPrefix("ERR CONFLICT the batch failed"))
        #expect(store.tables.needs[901]?.quantity == 10)
    }
}
