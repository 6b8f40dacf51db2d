// PLACEHOLDER: language server entry (issue 6).
