// Start GOV.UK Frontend's components (error summaries, notification banners, ...).
import { initAll } from "./govuk-frontend.min.js";

initAll();
