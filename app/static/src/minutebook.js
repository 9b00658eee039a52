// Runs first, from the page head's end, so styles can tell that JavaScript is on (the CSP
// forbids inline scripts, so this cannot be an inline snippet).
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
