import MatchCore

/// Access tokens: only the SHA-256 of a secret is stored.
struct PGTokens: TokenGateway {
    let connection: PGConnection

    static let valid = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())"

    func authenticate(secret: String) throws -> Principal? {
        try connection.query(
            """
            SELECT id, role, scope, label FROM api_token
            WHERE token_hash = sha256(convert_to(\(secret), 'UTF8')) AND \(unsafeSQL: Self.valid)
            """
        ).first.map(Self.principal)
    }

    func isValid(_ tokenID: Int64) throws -> Bool {
        try validity(tokenID) != nil
    }

    /// The token's expiry while it is valid; nil when it is not (revoked, expired, unknown).
    func validity(_ tokenID: Int64) throws -> ChangeWatch.Expiry? {
        guard
            let row = try connection.query(
                "SELECT floor(extract(epoch FROM expires_at))::bigint FROM api_token WHERE id = \(tokenID) AND \(unsafeSQL: Self.valid)"
            ).first
        else { return nil }
        return row[0] == nil ? .never : .at(secondsSince1970: try row.int64(0))
    }

    func create(secret: String, role: Role, scope: String, label: String, expiresInDays: Int?) throws -> Principal {
        guard
            let row = try connection.query(
                """
                INSERT INTO api_token (token_hash, role, scope, label, expires_at)
                VALUES (sha256(convert_to(\(secret), 'UTF8')), \(role.rawValue), \(scope), \(label),
                        now() + make_interval(days => \(expiresInDays)))
                RETURNING id, role, scope, label
                """
            ).first
        else { throw PGError(sqlState: nil, message: "INSERT … RETURNING gave no row") }
        return try Self.principal(row)
    }

    func list(page: Page) throws -> [TokenInfo] {
        let afterID = page.after.flatMap { Int64($0) }
        return try connection.query(
            """
            SELECT id, role, scope, label, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            FROM api_token WHERE (\(afterID)::bigint IS NULL OR id > \(afterID)) ORDER BY id LIMIT \(page.limit)
            """
        ).rows.map { row in
            TokenInfo(principal: try Self.principal(row), createdAt: try row.string(4), expiresAt: row[5], revokedAt: row[6])
        }
    }

    func revoke(_ id: Int64) throws -> Bool? {
        // This instance forgets the token when the revoke ends, not only when its NOTIFY is heard.
        connection.noteChange(PGNotification(channel: ChangeWatch.tokenChannel, payload: "\(id)"))
        let row = try connection.query(
            """
            WITH revoked AS (UPDATE api_token SET revoked_at = now() WHERE id = \(id) AND revoked_at IS NULL RETURNING id)
            SELECT EXISTS (SELECT 1 FROM revoked), EXISTS (SELECT 1 FROM api_token WHERE id = \(id))
            """
        ).first
        guard let row, try row.bool(1) else { return nil }
        return try row.bool(0)
    }

    private static func principal(_ row: PGRow) throws -> Principal {
        guard let role = Role(rawValue: try row.string(1)) else {
            throw PGError(sqlState: nil, message: "unknown role \(row[1] ?? "NULL") in api_token")
        }
        return Principal(tokenID: try row.int64(0), role: role, scope: try row.string(2), label: try row.string(3))
    }
}

/// Who changed what, recorded in the change's own transaction.
struct PGAudit: AuditGateway {
    let connection: PGConnection

    /// One statement records the entry and checks its actor's token: a write whose token was
    /// revoked while it ran stores nothing. A token revoked by this very transaction (now() is
    /// its start) still signs it: an administrator may revoke its own token.
    func record(_ entry: AuditEntry) throws -> Bool {
        try connection.query(
            """
            INSERT INTO audit_log (token_id, role, scope, command, target, changes)
            SELECT id, \(entry.actor.role.rawValue), \(entry.actor.scope), \(entry.command), \(entry.target),
                   \(entry.changesJSON)::jsonb
            FROM api_token
            WHERE id = \(entry.actor.tokenID) AND (\(unsafeSQL: PGTokens.valid) OR revoked_at = now())
            """
        ).affectedRows == 1
    }

    func recordFromShell(command: String, target: String, changes: [(String, String)]) throws {
        try connection.query(
            """
            INSERT INTO audit_log (token_id, role, scope, command, target, changes)
            VALUES (NULL, 'shell', '', \(command), \(target), \(PGText.jsonObject(changes))::jsonb)
            """)
    }

    func entries(filter: AuditFilter, page: Page) throws -> [AuditRecord] {
        let afterID = page.after.flatMap { Int64($0) }
        return try connection.query(
            """
            SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), token_id, role, scope, command,
                   target, changes::text
            FROM audit_log
            WHERE (\(filter.tokenID)::bigint IS NULL OR token_id = \(filter.tokenID))
              AND (\(filter.target)::text IS NULL OR target = \(filter.target)
                   OR target LIKE \(filter.target.map(PGText.likeLiteral)) || ':%')
              AND (\(filter.since)::timestamptz IS NULL OR at >= \(filter.since)::timestamptz)
              AND (\(filter.until)::timestamptz IS NULL OR at < \(filter.until)::timestamptz)
              AND (\(afterID)::bigint IS NULL OR id > \(afterID))
            ORDER BY id LIMIT \(page.limit)
            """
        ).rows.map { row in
            AuditRecord(
                id: try row.int64(0), at: try row.string(1), tokenID: row[2].flatMap { Int64($0) }, role: try row.string(3),
                scope: try row.string(4), command: try row.string(5), target: try row.string(6), changes: try row.string(7))
        }
    }
}

/// Client request keys: what a `req=` request stored, for its retries.
struct PGRequests: RequestGateway {
    let connection: PGConnection

    func earlier(token: Int64, key: String, withinHours hours: Int) throws -> EarlierRequest? {
        try connection.query(
            """
            SELECT target, rows FROM client_request
            WHERE token_id = \(token) AND request = \(key) AND created_at > now() - make_interval(hours => \(hours))
            """
        ).first.map { EarlierRequest(target: try $0.string(0), rows: try $0.int(1)) }
    }

    func remember(token: Int64, key: String, _ stored: EarlierRequest, withinHours hours: Int) throws -> Bool {
        // A key older than the window is free again; a live one belongs to its first request.
        try connection.query(
            """
            INSERT INTO client_request (token_id, request, target, rows) VALUES (\(token), \(key), \(stored.target), \(stored.rows))
            ON CONFLICT (token_id, request) DO UPDATE SET target = excluded.target, rows = excluded.rows, created_at = now()
            WHERE client_request.created_at <= now() - make_interval(hours => \(hours))
            """
        ).affectedRows == 1
    }
}
