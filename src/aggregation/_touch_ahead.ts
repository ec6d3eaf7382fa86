// When the aggregator touches its single-packet tables a batch ahead (see
// EventAggregator#touchAhead): from this many one-packet events in a table, beyond what the
// caches hold. A mutable object so that tests can take the touch-ahead path on small captures
// and compare it with the plain one.

/** Settings of the touch-ahead path. */
export const touchAhead = {
  /** One-packet events in a table from which its lookups are touched ahead. */
  from: 1 << 20,
};
