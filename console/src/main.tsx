import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { applyTheme } from "./hooks/useTheme";
import { makeQueryClient } from "./queryClient";
import "./index.css";

applyTheme();
const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App queryClient={makeQueryClient()} />
    </StrictMode>,
  );
}
