import { apiApp } from "./app";

export default apiApp;
