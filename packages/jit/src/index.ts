export { interpreter } from "./ad.js";
