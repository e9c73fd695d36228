import { storageApp } from "./app";

export default storageApp;
