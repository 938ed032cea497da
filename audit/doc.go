// Package audit is vidlib's audit log: the Record every producer writes (who
// did what to which object, with what outcome), the closed list of audited
// Actions, and the Query that searches stored records.
//
// Records travel on the audit.events topic and are appended to PostgreSQL by
// the audit consumer; the package itself holds no server code.
package audit
