// Starts Swagger UI on /api/v1/docs. A static file, not an inline <script>: the CSP allows scripts from 'self' only.
(function () {
  "use strict";

  // Swagger UI >= 5.33 windows the operations list once tags + operations reach 150 (swagger-ui PR #11024, no
  // option to turn it off): only the ~dozen rows in view are mounted, so find-in-page (swagger-ui issue #11056) and
  // anything reading the page see a fraction of the API. Our document is past that size, so this plugin puts back
  // Swagger UI's own full rendering (its branch below the threshold): every operation stays in the page, collapsed.
  function EveryOperationPlugin(system) {
    var h = system.React.createElement;

    function Operations(props) {
      var specSelectors = props.specSelectors;
      var getComponent = props.getComponent;
      var taggedOperations = specSelectors.taggedOperations();  // already narrowed by the filter box, if any
      var methods = specSelectors.validOperationMethods();
      if (taggedOperations.size === 0) {
        return h("h3", null, " No operations defined in spec!");
      }
      var OperationTag = getComponent("OperationTag");
      var OperationContainer = getComponent("OperationContainer", true);
      return h("div", null, taggedOperations.map(function (tagObj, tag) {
        var operations = tagObj.get("operations").map(function (op) {
          var path = op.get("path"), method = op.get("method");
          if (methods.indexOf(method) === -1) {
            return null;
          }
          return h(OperationContainer, {key: path + "-" + method, specPath: op.get("specPath"), op: op,
                                        path: path, method: method, tag: tag});
        }).toArray();
        return h(OperationTag, {key: "operation-" + tag, tagObj: tagObj, tag: tag,
                                oas3Selectors: props.oas3Selectors, layoutSelectors: props.layoutSelectors,
                                layoutActions: props.layoutActions, getConfigs: props.getConfigs,
                                getComponent: getComponent, specUrl: specSelectors.url()},
                 h("div", {className: "operation-tag-content"}, operations));
      }).valueSeq().toArray());
    }

    return {components: {operations: Operations}};
  }

  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    // the online validator badge would load an image from validator.swagger.io, which the CSP refuses
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [EveryOperationPlugin],
    layout: "BaseLayout"
  });
})();
