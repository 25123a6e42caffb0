#ifndef RESILIENT_POSTGRES_CLIBPQ_SHIM_H
#define RESILIENT_POSTGRES_CLIBPQ_SHIM_H

#include <libpq-fe.h>

// Error and notice field codes: postgres_ext.h defines them as character literals, which Swift does not import.
static const int CLibPQ_DIAG_SEVERITY = PG_DIAG_SEVERITY;
static const int CLibPQ_DIAG_SEVERITY_NONLOCALIZED = PG_DIAG_SEVERITY_NONLOCALIZED;
static const int CLibPQ_DIAG_SQLSTATE = PG_DIAG_SQLSTATE;
static const int CLibPQ_DIAG_MESSAGE_PRIMARY = PG_DIAG_MESSAGE_PRIMARY;
static const int CLibPQ_DIAG_MESSAGE_DETAIL = PG_DIAG_MESSAGE_DETAIL;
static const int CLibPQ_DIAG_MESSAGE_HINT = PG_DIAG_MESSAGE_HINT;
static const int CLibPQ_DIAG_STATEMENT_POSITION = PG_DIAG_STATEMENT_POSITION;

#endif
