"""Alert rules: rules as data (:mod:`.rules`), their kinds (:mod:`.kinds`), evaluation over the mark
store (:mod:`.evaluate`), de-duplication into alerts (:mod:`.ledger`), simulation (:mod:`.simulate`)
and notifications (:mod:`.notify`). See docs/alerts.md."""
