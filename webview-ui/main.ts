// PLACEHOLDER: dashboard entry (issue 4).
