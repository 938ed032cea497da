package pgstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// where builds the WHERE clause of a filtered list query: every list and
// search of the stores (dead letters, provider events, audit records, the
// admin's lists) adds its conditions here, each with "$?" standing for its
// one argument's placeholder, and sql numbers them and appends the order and
// the limit.
type where struct {
	conds []string
	args  []any
}

// add adds cond (with "$?" for v's placeholder), ANDed with the others.
func (w *where) add(cond string, v any) {
	w.args = append(w.args, v)
	w.conds = append(w.conds, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(w.args))))
}

// sql is base with the conditions, ORDER BY order and LIMIT limit, and its
// arguments.
func (w *where) sql(base, order string, limit int) (string, []any) {
	if len(w.conds) > 0 {
		base += " WHERE " + strings.Join(w.conds, " AND ")
	}
	w.args = append(w.args, limit)
	return base + " ORDER BY " + order + " LIMIT $" + strconv.Itoa(len(w.args)), w.args
}

// eq adds "col = v", unless v is empty: an unset filter.
func (w *where) eq(col, v string) {
	if v != "" {
		w.add(col+" = $?", v)
	}
}

// between adds col >= from and col < to, each unless zero: an open end.
func (w *where) between(col string, from, to time.Time) {
	if !from.IsZero() {
		w.add(col+" >= $?", from)
	}
	if !to.IsZero() {
		w.add(col+" < $?", to)
	}
}

// below adds "col < n" (the page after cursor n), unless n is 0: the first page.
func (w *where) below(col string, n int64) {
	if n > 0 {
		w.add(col+" < $?", n)
	}
}

// collect runs a list query (from where.sql) and scans every row with scan;
// a failure names what was listed, its driver error translated for d.
func collect[T any](ctx context.Context, pool *pgxpool.Pool, sql string, args []any, scan pgx.RowToFunc[T], d domainErrs, what string) ([]T, error) {
	rows, _ := pool.Query(ctx, sql, args...)
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %s: %w", what, translate(err, d))
	}
	return out, nil
}
